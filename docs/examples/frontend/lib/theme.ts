// Dark and light mode: the user's choice ("system" follows the OS), stored in
// localStorage, applied as a class on <html> that Tailwind's dark: variant reads.

export type ThemePreference = "light" | "dark" | "system";
export type Theme = "light" | "dark";

export const THEME_KEY = "theme";
export const DARK_QUERY = "(prefers-color-scheme: dark)";

// [start:theme-core]
export function parsePreference(value: string | null): ThemePreference {
  return value === "light" || value === "dark" ? value : "system";
}

export function resolveTheme(preference: ThemePreference, systemDark: boolean): Theme {
  return preference === "system" ? (systemDark ? "dark" : "light") : preference;
}

export function applyTheme(root: HTMLElement, theme: Theme): void {
  root.classList.toggle("dark", theme === "dark");
  root.style.colorScheme = theme; // native scrollbars and form controls follow
}

/**
 * Inlined in <head> and run before the first paint, so a dark-mode user never sees a
 * white flash while React loads. Plain ES5 in a string: it runs before any bundle, and
 * it must not throw where localStorage is blocked.
 */
export const themeScript = `(function(){try{var p=localStorage.getItem(${JSON.stringify(THEME_KEY)});var d=p==="dark"||(p!=="light"&&window.matchMedia(${JSON.stringify(DARK_QUERY)}).matches);var r=document.documentElement;r.classList.toggle("dark",d);r.style.colorScheme=d?"dark":"light"}catch(e){}})()`;
// [end:theme-core]
