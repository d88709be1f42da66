"use client";

import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useSyncExternalStore,
} from "react";

import {
  applyTheme,
  DARK_QUERY,
  parsePreference,
  resolveTheme,
  type Theme,
  THEME_KEY,
  type ThemePreference,
} from "@/lib/theme";

interface ThemeContextValue {
  preference: ThemePreference;
  theme: Theme;
  setPreference: (preference: ThemePreference) => void;
}

const ThemeContext = createContext<ThemeContextValue | null>(null);
const LOCAL_CHANGE = "theme-change"; // the storage event only reaches *other* tabs

function subscribePreference(onChange: () => void): () => void {
  const onStorage = (e: StorageEvent) => e.key === THEME_KEY && onChange();
  window.addEventListener("storage", onStorage);
  window.addEventListener(LOCAL_CHANGE, onChange);
  return () => {
    window.removeEventListener("storage", onStorage);
    window.removeEventListener(LOCAL_CHANGE, onChange);
  };
}

function readPreference(): ThemePreference {
  try {
    return parsePreference(localStorage.getItem(THEME_KEY));
  } catch {
    return "system"; // storage blocked
  }
}

function subscribeSystem(onChange: () => void): () => void {
  const query = window.matchMedia(DARK_QUERY);
  query.addEventListener("change", onChange);
  return () => query.removeEventListener("change", onChange);
}

/** Switch without every transition-colors element animating at once. */
function withoutTransitions(change: () => void): void {
  const style = document.createElement("style");
  style.textContent = "*,*::before,*::after{transition:none!important}";
  document.head.appendChild(style);
  change();
  void window.getComputedStyle(document.body).opacity; // apply the change with transitions off
  setTimeout(() => style.remove(), 1);
}

// [start:theme-provider]
export function ThemeProvider({ children }: { children: ReactNode }) {
  // Server snapshots: the server cannot know, and the inline script has already set
  // the class. React re-renders with the client's values after hydration.
  const preference = useSyncExternalStore(
    subscribePreference,
    readPreference,
    () => "system" as const,
  );
  const systemDark = useSyncExternalStore(
    subscribeSystem,
    () => window.matchMedia(DARK_QUERY).matches,
    () => false,
  );
  const theme = resolveTheme(preference, systemDark);

  useEffect(() => {
    const root = document.documentElement;
    if (root.classList.contains("dark") !== (theme === "dark"))
      withoutTransitions(() => applyTheme(root, theme));
  }, [theme]);

  const setPreference = useCallback((next: ThemePreference) => {
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      // storage blocked: the choice lasts for this page only
    }
    window.dispatchEvent(new Event(LOCAL_CHANGE));
  }, []);

  return <ThemeContext value={{ preference, theme, setPreference }}>{children}</ThemeContext>;
}
// [end:theme-provider]

export function useTheme(): ThemeContextValue {
  const value = useContext(ThemeContext);
  if (value === null) throw new Error("useTheme must be used inside <ThemeProvider>");
  return value;
}
