// @ts-check
// sphinx-llmdoc deep-dives: collapsed <details> that open whenever something inside them
// is wanted. Applies to every <details> on the page (sphinx-design dropdowns too): a
// link, the URL fragment or find-in-page that targets hidden content opens its ancestors,
// printing opens everything and restores it afterwards. Sections holding deep-dives get
// an "Expand all / Collapse all" button.
"use strict";

(() => {
  const DEEP_DIVE = "details.llmdoc-deep-dive";

  /**
   * The element a fragment such as "#x%20y" names, if any.
   * @param {string} hash
   * @returns {HTMLElement | null}
   */
  function targetOf(hash) {
    if (!hash || hash === "#") return null;
    let id = hash.slice(1);
    try {
      id = decodeURIComponent(id);
    } catch {
      // a malformed escape: look the raw text up instead
    }
    return document.getElementById(id);
  }

  /**
   * Open every <details> holding `element` (and `element` itself if it is one).
   * @param {Element | null} element
   * @returns {boolean} whether anything was closed before
   */
  function reveal(element) {
    let changed = false;
    let details = element ? element.closest("details") : null;
    while (details) {
      if (!details.open) {
        details.open = true;
        changed = true;
      }
      const parent = details.parentElement;
      details = parent ? parent.closest("details") : null;
    }
    return changed;
  }

  /** Open what the URL fragment targets; scroll again, since it was hidden before. */
  function revealHash() {
    const target = targetOf(window.location.hash);
    if (reveal(target) && target) target.scrollIntoView({ block: "start" });
  }

  /**
   * Open the target of an in-page link before the browser scrolls to it; this also
   * covers a link to the fragment the URL already has, which fires no hashchange.
   * @param {MouseEvent} event
   */
  function onClick(event) {
    if (!(event.target instanceof Element)) return;
    const link = event.target.closest("a[href]");
    if (!(link instanceof HTMLAnchorElement) || !link.hash) return;
    const here = window.location.href.split("#")[0];
    if (link.href.split("#")[0] !== here) return;
    reveal(targetOf(link.hash));
  }

  /** @type {HTMLDetailsElement[]} */
  let openedForPrint = [];

  function openForPrint() {
    openedForPrint = Array.from(document.querySelectorAll("details:not([open])"));
    for (const details of openedForPrint) details.open = true;
  }

  function restoreAfterPrint() {
    for (const details of openedForPrint) details.open = false;
    openedForPrint = [];
  }

  /**
   * One control per section that holds deep-dives, acting on that section's deep-dives.
   * @param {HTMLDetailsElement[]} group
   */
  function addControl(group) {
    const wrapper = document.createElement("div");
    wrapper.className = "llmdoc-deep-dive-controls";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "llmdoc-deep-dive-toggle";
    const update = () => {
      const allOpen = group.every((details) => details.open);
      button.textContent = allOpen ? "Collapse all deep-dives" : "Expand all deep-dives";
      button.setAttribute("aria-expanded", String(allOpen));
    };
    button.addEventListener("click", () => {
      const open = !group.every((details) => details.open);
      for (const details of group) details.open = open;
      update();
    });
    for (const details of group) details.addEventListener("toggle", update);
    update();
    wrapper.append(button);
    group[0].before(wrapper);
  }

  function addControls() {
    /** @type {Map<Element, HTMLDetailsElement[]>} */
    const groups = new Map();
    for (const details of document.querySelectorAll(DEEP_DIVE)) {
      if (!(details instanceof HTMLDetailsElement)) continue;
      const parent = details.parentElement;
      const section = (parent && parent.closest("section")) || document.body;
      const group = groups.get(section);
      if (group) group.push(details);
      else groups.set(section, [details]);
    }
    for (const group of groups.values()) addControl(group);
  }

  function start() {
    addControls();
    revealHash();
  }

  document.addEventListener("click", onClick, true);
  window.addEventListener("hashchange", revealHash);
  // Content with hidden="until-found" fires beforematch when find-in-page reaches it;
  // Chromium already opens closed <details> on its own, this covers the rest.
  document.addEventListener("beforematch", (event) => {
    if (event.target instanceof Element) reveal(event.target);
  }, true);
  window.addEventListener("beforeprint", openForPrint);
  window.addEventListener("afterprint", restoreAfterPrint);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
