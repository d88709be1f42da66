import type { NextConfig } from "next";

import { contentSecurityPolicy, imageHostsFromEnv } from "./lib/csp";

// [start:next-config]
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  async headers() {
    const csp = contentSecurityPolicy(
      imageHostsFromEnv(process.env.NEXT_PUBLIC_IMAGE_HOSTS),
      process.env.NEXT_PUBLIC_CHAT_SOCKET_URL,
    );
    return [
      {
        source: "/:path*",
        headers: [
          { key: "Content-Security-Policy", value: csp },
          { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
          { key: "X-Content-Type-Options", value: "nosniff" },
        ],
      },
    ];
  },
};
// [end:next-config]

export default config;
