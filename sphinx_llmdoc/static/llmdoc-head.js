// @ts-check
// Runs in <head>, before anything is drawn and before furo's theme script.
// 1. Where the browser refuses web storage to the page (Safari on file://, site data
//    blocked), reading `localStorage` throws, which would stop furo from applying the
//    theme and break its toggle. Substitute a store that lives in memory for this visit,
//    so everything still works and simply forgets.
// 2. furo drops the `no-js` class only once the page has loaded, which reveals its theme
//    toggle and moves the title: a layout shift. Scripts run, so drop it now.
// 3. A long book is drawn while its embedded fonts are still being decoded; lines then
//    rewrap and everything below moves. Keep the page invisible (llmdoc.css) until the
//    fonts are ready, for at most two seconds.
"use strict";
(() => {
  /** @returns {Storage} */
  function memoryStorage() {
    /** @type {Map<string, string>} */
    const items = new Map();
    return {
      get length() {
        return items.size;
      },
      key: (index) => [...items.keys()][index] ?? null,
      getItem: (key) => items.get(String(key)) ?? null,
      setItem: (key, value) => void items.set(String(key), String(value)),
      removeItem: (key) => void items.delete(String(key)),
      clear: () => items.clear(),
    };
  }

  /** @param {"localStorage" | "sessionStorage"} name */
  function guard(name) {
    try {
      const store = window[name];
      store.setItem("llmdoc-probe", "1");
      store.removeItem("llmdoc-probe");
    } catch {
      try {
        Object.defineProperty(window, name, { value: memoryStorage(), configurable: true });
      } catch {
        // A non-configurable property cannot be replaced; scripts must cope themselves.
      }
    }
  }

  guard("localStorage");
  guard("sessionStorage");
  const root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("llmdoc-loading");
  const reveal = () => root.classList.remove("llmdoc-loading");
  // The @font-face rules are already parsed (stylesheets come first in <head>): load
  // every face now rather than when layout first asks for it.
  Promise.all([...document.fonts].map((face) => face.load())).then(reveal, reveal);
  window.setTimeout(reveal, 2000);
})();
