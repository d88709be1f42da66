"use client";

import type { ThemePreference } from "@/lib/theme";

import { useTheme } from "./ThemeProvider";

const CHOICES: { value: ThemePreference; label: string }[] = [
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
  { value: "system", label: "System" },
];

export function ThemeToggle() {
  const { preference, setPreference } = useTheme();
  return (
    <div
      role="group"
      aria-label="Theme"
      className="flex rounded-lg border border-zinc-300 text-sm dark:border-zinc-700"
    >
      {CHOICES.map((c) => (
        <button
          key={c.value}
          type="button"
          aria-pressed={preference === c.value}
          onClick={() => setPreference(c.value)}
          className="min-h-9 px-3 aria-pressed:bg-zinc-200 dark:aria-pressed:bg-zinc-700"
        >
          {c.label}
        </button>
      ))}
    </div>
  );
}
