import "./globals.css";

import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";

import { ThemeProvider } from "@/components/theme/ThemeProvider";
import { themeScript } from "@/lib/theme";

export const metadata: Metadata = {
  title: "Chatbot",
  description: "Reference front end for the chatbot service",
};

// [start:viewport]
export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  viewportFit: "cover", // draw under the notch; the input adds env(safe-area-inset-bottom)
  interactiveWidget: "resizes-content", // the on-screen keyboard shrinks the layout, not covers it
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#09090b" },
  ],
};
// [end:viewport]

// [start:layout]
export default function RootLayout({ children }: Readonly<{ children: ReactNode }>) {
  return (
    // The inline script changes <html>'s class before React hydrates; without
    // suppressHydrationWarning React reports that as a mismatch.
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: themeScript }} />
      </head>
      <body className="bg-white text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">
        <ThemeProvider>{children}</ThemeProvider>
      </body>
    </html>
  );
}
// [end:layout]
