// @ts-check
// sphinx-llmdoc reader behaviour for the single-file book: keyboard-operable drawers,
// a scroll-spy for the left navigation, in-page search, code-block tools and print
// preparation. furo, sphinx-design and sphinx-copybutton keep everything else.
// No eval, no inline handlers, no network: the page's Content-Security-Policy allows
// only its own inline scripts.
"use strict";
(() => {
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  /** @returns {ScrollBehavior} */
  function scrollBehavior() {
    return reducedMotion.matches ? "auto" : "smooth";
  }

  /**
   * @param {string} tag
   * @param {string} [className]
   * @param {string} [text]
   * @returns {HTMLElement}
   */
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // -- announcements --------------------------------------------------------------------

  /** @type {HTMLElement | null} */
  let liveRegion = null;

  /** Say *message* to screen readers through a polite live region. */
  function announce(/** @type {string} */ message) {
    if (!liveRegion) return;
    const region = liveRegion;
    // Clearing first makes a repeated message ("Copied", "Copied") be read again.
    region.textContent = "";
    window.setTimeout(() => {
      region.textContent = message;
    }, 60);
  }

  // -- drawers: furo's mobile menu and table of contents ----------------------------------

  /**
   * @typedef {object} Drawer
   * @property {HTMLInputElement} toggle furo's checkbox that opens the drawer
   * @property {HTMLElement} panel
   * @property {HTMLElement[]} buttons
   * @property {MediaQueryList} narrow when the drawer slides in instead of being shown
   */

  /** @type {Drawer[]} */
  const drawers = [];

  function setupDrawers() {
    const specs = [
      ["__navigation", ".nav-overlay-icon", ".sidebar-drawer", "(max-width: 63em)", "Menu"],
      ["__toc", ".toc-overlay-icon", ".toc-drawer", "(max-width: 82em)", "On this page"],
    ];
    for (const [id, buttonSelector, panelSelector, query, label] of specs) {
      const toggle = document.getElementById(id);
      const panel = document.querySelector(panelSelector);
      if (!(toggle instanceof HTMLInputElement) || !(panel instanceof HTMLElement)) continue;
      /** @type {HTMLElement[]} */
      const buttons = Array.from(document.querySelectorAll(buttonSelector));
      const drawer = { toggle, panel, buttons, narrow: window.matchMedia(query) };
      drawers.push(drawer);
      // furo's openers are <label>s: reachable by mouse only. Make them buttons.
      for (const button of buttons) {
        button.setAttribute("role", "button");
        button.setAttribute("tabindex", "0");
        button.setAttribute("aria-label", label);
        button.addEventListener("keydown", (event) => {
          if (event.key !== "Enter" && event.key !== " ") return;
          event.preventDefault();
          setDrawer(drawer, !toggle.checked);
          if (toggle.checked) focusFirstIn(panel);
        });
      }
      toggle.addEventListener("change", () => syncDrawer(drawer));
      drawer.narrow.addEventListener("change", () => syncDrawer(drawer));
      // Choosing a link in a slid-in drawer should show the page, not the drawer.
      panel.addEventListener("click", (event) => {
        const target = event.target instanceof Element ? event.target : null;
        if (target?.closest('a[href^="#"]') && drawer.narrow.matches) setDrawer(drawer, false);
      });
      syncDrawer(drawer);
    }
  }

  /** @param {Drawer} drawer */
  function syncDrawer(drawer) {
    const open = drawer.toggle.checked;
    for (const button of drawer.buttons) button.setAttribute("aria-expanded", String(open));
    // A closed drawer sits off-screen; keep keyboard focus out of it.
    drawer.panel.inert = drawer.narrow.matches && !open;
  }

  /** @param {Drawer} drawer @param {boolean} open */
  function setDrawer(drawer, open) {
    if (drawer.toggle.checked === open) return;
    drawer.toggle.checked = open;
    syncDrawer(drawer);
  }

  /** @param {HTMLElement} panel */
  function focusFirstIn(panel) {
    const first = panel.querySelector("a[href], input:not([type=hidden]), button");
    if (first instanceof HTMLElement) first.focus({ preventScroll: true });
  }

  /** Close the open drawer, returning focus to its button. @returns {boolean} */
  function closeOpenDrawer() {
    for (const drawer of drawers) {
      if (drawer.toggle.checked && drawer.narrow.matches) {
        setDrawer(drawer, false);
        const button = drawer.buttons.find((b) => b.offsetParent !== null);
        button?.focus();
        return true;
      }
    }
    return false;
  }

  /** Make sure the navigation drawer is showing, e.g. to reach its search box. */
  function revealNavigation() {
    const drawer = drawers.find((d) => d.toggle.id === "__navigation");
    if (drawer?.narrow.matches) setDrawer(drawer, true);
  }

  // -- landmarks -------------------------------------------------------------------------

  function labelLandmarks() {
    /** @type {[string, string][]} */
    const navs = [
      [".sidebar-tree", "Book contents"],
      [".toc-tree", "On this page"],
    ];
    for (const [selector, label] of navs) {
      const nav = document.querySelector(selector);
      if (!nav) continue;
      nav.setAttribute("role", "navigation");
      nav.setAttribute("aria-label", label);
    }
  }

  // -- scroll-spy for the left navigation ------------------------------------------------

  /**
   * furo's own scroll-spy (gumshoe) marks the right-hand table of contents; this one marks
   * the same section in the left tree, with the same rule, and opens its chapter there.
   */
  function setupScrollSpy() {
    const found = document.querySelector(".sidebar-tree");
    if (!found) return;
    const tree = found; // narrowed for the functions below
    /** @type {{link: HTMLAnchorElement, target: HTMLElement}[]} */
    const entries = [];
    for (const link of tree.querySelectorAll('a.reference[href^="#"]')) {
      if (!(link instanceof HTMLAnchorElement)) continue;
      const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (target) entries.push({ link, target });
    }
    if (!entries.length) return;
    const header = document.querySelector("header");
    const scroller = tree.closest(".sidebar-scroll");
    /** Checkboxes this spy opened, which it may close again; the reader's own stay. */
    const opened = new Set();
    /** @type {HTMLAnchorElement | null} */
    let current = null;

    tree.addEventListener("change", (event) => opened.delete(event.target));

    function offset() {
      const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
      const box = header ? header.getBoundingClientRect() : { top: 0, height: 0 };
      return box.top + box.height + 2.5 * rem + 1;
    }

    /** The entry whose section the reader is in: the last one whose top has passed. */
    function find() {
      const last = entries[entries.length - 1];
      const atBottom =
        Math.ceil(window.innerHeight + window.scrollY) >= document.documentElement.scrollHeight;
      if (atBottom && last.target.getBoundingClientRect().bottom < window.innerHeight) return last;
      const limit = offset();
      let low = 0;
      let high = entries.length - 1;
      let found = -1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        if (Math.trunc(entries[middle].target.getBoundingClientRect().top) <= limit) {
          found = middle;
          low = middle + 1;
        } else {
          high = middle - 1;
        }
      }
      return found >= 0 ? entries[found] : null;
    }

    function update() {
      const entry = find();
      const link = entry ? entry.link : null;
      if (link === current) return;
      current?.classList.remove("llmdoc-current");
      current?.removeAttribute("aria-current");
      for (const old of tree.querySelectorAll(".llmdoc-current-branch")) {
        old.classList.remove("llmdoc-current-branch");
      }
      current = link;
      /** @type {Set<HTMLInputElement>} */
      const needed = new Set();
      if (link) {
        link.classList.add("llmdoc-current");
        link.setAttribute("aria-current", "location");
        for (let item = link.closest("li"); item; item = item.parentElement?.closest("li") ?? null) {
          item.classList.add("llmdoc-current-branch");
          const box = item.querySelector(":scope > input.toctree-checkbox");
          if (box instanceof HTMLInputElement && item !== link.parentElement) needed.add(box);
        }
      }
      for (const box of opened) {
        if (!needed.has(box)) {
          box.checked = false;
          opened.delete(box);
        }
      }
      for (const box of needed) {
        if (!box.checked) {
          box.checked = true;
          opened.add(box);
        }
      }
      if (link && scroller) keepVisible(link, scroller);
    }

    let pending = false;
    function schedule() {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(() => {
        pending = false;
        update();
      });
    }
    window.addEventListener("scroll", schedule, { passive: true });
    window.addEventListener("resize", schedule);
    window.addEventListener("hashchange", schedule);
    update();
  }

  /** Scroll *container* (not the page) so that *item* is in view. */
  function keepVisible(/** @type {HTMLElement} */ item, /** @type {Element} */ container) {
    const box = container.getBoundingClientRect();
    const rect = item.getBoundingClientRect();
    if (rect.top < box.top || rect.bottom > box.bottom) {
      const top = container.scrollTop + rect.top - box.top - box.height / 3;
      container.scrollTo({ top, behavior: "auto" });
    }
  }

  // -- in-page search ----------------------------------------------------------------------

  /**
   * @typedef {object} Entry
   * @property {HTMLElement} section
   * @property {string} id
   * @property {string} title
   * @property {string} trail titles of the enclosing sections, for context
   * @property {string} text the section's own text, whitespace collapsed
   * @property {string} lower
   * @property {string} titleLower
   */

  const HEADINGS = ["H1", "H2", "H3", "H4", "H5", "H6"];
  /** Elements whose text is not prose: markup the reader never sees as text. */
  const SKIP = new Set(["SCRIPT", "STYLE", "TEMPLATE", "BUTTON", "svg", "SVG"]);
  const SKIP_CLASSES = ["headerlink", "llmdoc-code-lang", "llmdoc-gutter"];
  /** Any of these inside an element means its text needs the careful walk. */
  const SKIP_SELECTOR = "script, style, template, button, svg, section, .headerlink, .llmdoc-code-lang, .llmdoc-gutter";

  /** @param {Node} node @param {HTMLElement} section */
  function acceptText(node, section) {
    if (node.nodeType === Node.TEXT_NODE) return NodeFilter.FILTER_ACCEPT;
    if (!(node instanceof Element)) return NodeFilter.FILTER_SKIP;
    if (node !== section && node.tagName === "SECTION") return NodeFilter.FILTER_REJECT;
    if (SKIP.has(node.tagName)) return NodeFilter.FILTER_REJECT;
    if (SKIP_CLASSES.some((c) => node.classList.contains(c))) return NodeFilter.FILTER_REJECT;
    return NodeFilter.FILTER_SKIP;
  }

  /** Text nodes of *section* itself, not of the sections nested in it. */
  function* ownTextNodes(/** @type {HTMLElement} */ section) {
    const walker = document.createTreeWalker(
      section,
      NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT,
      { acceptNode: (node) => acceptText(node, section) },
    );
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node instanceof Text) yield node;
    }
  }

  /** The section's own heading (label targets may come before it). @param {HTMLElement} section */
  function headingOf(section) {
    for (const child of section.children) {
      if (HEADINGS.includes(child.tagName)) return child;
      if (child.tagName === "SECTION") break;
    }
    return null;
  }

  /** @param {Element | null} heading */
  function headingText(heading) {
    if (!heading) return "";
    let text = "";
    for (const node of heading.childNodes) {
      if (node instanceof Element && node.classList.contains("headerlink")) continue;
      text += node.textContent;
    }
    return text.replace(/\s+/g, " ").trim();
  }

  /** Index every section of the article from the page itself: no index file, no fetch. */
  function buildIndex(/** @type {Element} */ article) {
    /** @type {Entry[]} */
    const entries = [];
    /** @type {Map<Element, string>} */
    const titles = new Map();
    for (const node of article.querySelectorAll("section[id]")) {
      if (!(node instanceof HTMLElement)) continue;
      const heading = headingOf(node);
      const title = headingText(heading);
      titles.set(node, title);
      const trail = [];
      for (let up = node.parentElement?.closest("section"); up; up = up.parentElement?.closest("section")) {
        const upTitle = titles.get(up);
        if (upTitle) trail.unshift(upTitle);
      }
      // the book's own title is on every section; it tells the reader nothing
      trail.shift();
      const parts = [];
      // Most children are plain prose: take their text natively, and walk node by
      // node only through those holding markup that is not prose.
      for (const child of node.childNodes) {
        if (child === heading) continue;
        if (child instanceof Element) {
          if (child.tagName === "SECTION") continue;
          if (acceptText(child, node) === NodeFilter.FILTER_REJECT) continue;
          if (child.querySelector(SKIP_SELECTOR)) {
            // text nodes of one element join as the browser shows them: no added spaces
            const texts = [...ownTextNodes(/** @type {HTMLElement} */ (child))];
            parts.push(texts.map((text) => text.data).join(""));
            continue;
          }
        }
        parts.push(child.textContent ?? "");
      }
      const body = parts.join(" ").replace(/\s+/g, " ").trim();
      entries.push({
        section: node,
        id: node.id,
        title,
        trail: trail.join(" › "),
        text: body,
        lower: body.toLowerCase(),
        titleLower: title.toLowerCase(),
      });
    }
    return entries;
  }

  /**
   * @typedef {object} Hit
   * @property {Entry} entry
   * @property {number} score
   * @property {number} at where the snippet's match starts in entry.text, or -1
   */

  /**
   * Sections containing every term, best first: a phrase in the title, then terms in
   * the title, then the number of occurrences in the text.
   * @param {Entry[]} entries @param {string} phrase @param {string[]} terms
   * @returns {Hit[]}
   */
  function rank(entries, phrase, terms) {
    /** @type {Hit[]} */
    const hits = [];
    for (const entry of entries) {
      let score = 0;
      let missing = false;
      for (const term of terms) {
        const inTitle = entry.titleLower.includes(term);
        const first = entry.lower.indexOf(term);
        if (!inTitle && first < 0) {
          missing = true;
          break;
        }
        if (inTitle) score += 20;
        for (let at = first, count = 0; at >= 0 && count < 5; count += 1) {
          score += 1;
          at = entry.lower.indexOf(term, at + term.length);
        }
      }
      if (missing) continue;
      if (entry.titleLower.includes(phrase)) score += 100;
      let at = entry.lower.indexOf(phrase);
      if (at >= 0) score += 10;
      else at = entry.lower.indexOf(terms[0]);
      hits.push({ entry, score, at });
    }
    // Array.prototype.sort is stable: equal scores stay in book order.
    return hits.sort((a, b) => b.score - a.score);
  }

  /**
   * Append *text* to *parent* with every occurrence of *terms* wrapped in <mark>.
   * @param {HTMLElement} parent @param {string} text @param {string[]} terms
   */
  function appendMarked(parent, text, terms) {
    const lower = text.toLowerCase();
    let position = 0;
    while (position < text.length) {
      let next = -1;
      let length = 0;
      for (const term of terms) {
        const at = lower.indexOf(term, position);
        if (at >= 0 && (next < 0 || at < next || (at === next && term.length > length))) {
          next = at;
          length = term.length;
        }
      }
      if (next < 0) break;
      if (next > position) parent.append(text.slice(position, next));
      parent.append(element("mark", "", text.slice(next, next + length)));
      position = next + length;
    }
    if (position < text.length) parent.append(text.slice(position));
  }

  /** About 140 characters of *text* around *at*, cut at word boundaries. */
  function snippet(/** @type {string} */ text, /** @type {number} */ at) {
    if (at < 0) return text.slice(0, 140) + (text.length > 140 ? "…" : "");
    let start = Math.max(0, at - 50);
    let end = Math.min(text.length, at + 90);
    if (start > 0) start = text.indexOf(" ", start) + 1 || start;
    if (end < text.length) end = text.lastIndexOf(" ", end) > at ? text.lastIndexOf(" ", end) : end;
    return (start > 0 ? "…" : "") + text.slice(start, end) + (end < text.length ? "…" : "");
  }

  const MAX_RESULTS = 30;

  function setupSearch() {
    const input = document.getElementById("llmdoc-search-input");
    const panel = document.getElementById("llmdoc-search-panel");
    const list = document.getElementById("llmdoc-search-results");
    const status = document.getElementById("llmdoc-search-status");
    const article = document.querySelector("article[role=main]") ?? document.querySelector("main");
    if (!(input instanceof HTMLInputElement) || !panel || !list || !status || !article) return;
    const box = input;
    const results = panel; // narrowed for the functions below

    /** @type {Entry[] | null} */
    let index = null;
    /** @type {Hit[]} */
    let hits = [];
    let active = -1;
    let terms = /** @type {string[]} */ ([]);
    let phrase = "";

    function ensureIndex() {
      if (!index) {
        performance.mark("llmdoc-search-index-start");
        index = buildIndex(/** @type {Element} */ (article));
        performance.measure("llmdoc-search-index", "llmdoc-search-index-start");
      }
      return index;
    }

    function close() {
      results.setAttribute("hidden", "");
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
      list?.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function run() {
      performance.mark("llmdoc-search-start");
      const query = box.value.replace(/\s+/g, " ").trim().toLowerCase();
      phrase = query;
      terms = query ? [...new Set(query.split(" "))].sort((a, b) => b.length - a.length) : [];
      // before any change: with the layout still clean, this forces no reflow
      if (list && list.scrollTop) list.scrollTop = 0;
      list?.replaceChildren();
      active = -1;
      box.removeAttribute("aria-activedescendant");
      if (query.length < 2) {
        hits = [];
        close();
        return;
      }
      hits = rank(ensureIndex(), query, terms);
      const shown = hits.slice(0, MAX_RESULTS);
      const fragment = document.createDocumentFragment();
      shown.forEach((hit, i) => {
        const item = element("li", "llmdoc-search-result");
        item.id = `llmdoc-search-result-${i}`;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        const title = element("span", "llmdoc-search-title");
        appendMarked(title, hit.entry.title, terms);
        item.append(title);
        if (hit.entry.trail) item.append(element("span", "llmdoc-search-trail", hit.entry.trail));
        const text = element("span", "llmdoc-search-snippet");
        appendMarked(text, snippet(hit.entry.text, hit.at), terms);
        item.append(text);
        fragment.append(item);
      });
      list?.append(fragment);
      const count = hits.length;
      if (status) {
        status.textContent =
          count === 0
            ? "No sections match."
            : count > MAX_RESULTS
              ? `${count} sections match; showing the first ${MAX_RESULTS}.`
              : `${count} section${count === 1 ? "" : "s"} match.`;
      }
      results.removeAttribute("hidden");
      box.setAttribute("aria-expanded", "true");
      if (count) move(0, false);
      performance.measure("llmdoc-search", "llmdoc-search-start");
    }

    /** Make result *i* the active one, scrolled into view unless *reveal* is false. */
    function move(/** @type {number} */ i, reveal = true) {
      const items = list ? list.children : [];
      if (!items.length) return;
      const next = (i + items.length) % items.length;
      items[active]?.setAttribute("aria-selected", "false");
      active = next;
      const item = items[active];
      item.setAttribute("aria-selected", "true");
      box.setAttribute("aria-activedescendant", item.id);
      list?.setAttribute("aria-activedescendant", item.id);
      if (reveal && list && item instanceof HTMLElement) keepVisible(item, list);
    }

    /** The search box and its results, which count as one place for focus. */
    const within = (/** @type {Element | null} */ node) =>
      node === box || (node !== null && results.contains(node));

    /** Keys shared by the box and the list. @param {KeyboardEvent} event */
    function onKey(event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (results.hidden && box.value.trim().length >= 2) run();
        else move(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        event.preventDefault();
        const hit = hits[active];
        if (hit) jump(hit.entry, terms);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        if (!results.hidden) {
          close();
          box.focus();
        } else {
          box.value = "";
          box.blur();
        }
      }
    }

    box.addEventListener("input", run);
    box.addEventListener("focus", () => {
      ensureIndex();
      if (box.value.trim().length >= 2 && results.hidden) run();
    });
    box.addEventListener("keydown", onKey);
    list.addEventListener("keydown", onKey);
    list.addEventListener("focus", () => {
      if (active < 0) move(0);
    });
    list.addEventListener("click", (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const item = target?.closest("[role=option]");
      if (!item) return;
      const hit = hits[Number(item.id.replace("llmdoc-search-result-", ""))];
      if (hit) jump(hit.entry, terms);
    });
    // Keep a click on a result from blurring the box before the click lands.
    list.addEventListener("mousedown", (event) => event.preventDefault());
    for (const part of [box, list]) {
      part.addEventListener("blur", () =>
        window.setTimeout(() => {
          if (!within(document.activeElement)) close();
        }, 150),
      );
    }

    document.addEventListener("keydown", (event) => {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target;
      if (target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select"))) return;
      event.preventDefault();
      revealNavigation();
      box.focus();
      box.select();
    });

    /** Go to *entry*'s match, opening whatever <details> hides it. */
    function jump(/** @type {Entry} */ entry, /** @type {string[]} */ words) {
      close();
      // a section found by its title is shown from its heading; otherwise at the match
      const match = entry.titleLower.includes(phrase) ? null : findMatch(entry, words);
      const block = match
        ? (match.startContainer.parentElement?.closest("p, li, dt, dd, td, th, pre, summary, figcaption, div, h1, h2, h3, h4, h5, h6") ?? entry.section)
        : entry.section;
      openAround(block);
      for (const drawer of drawers) if (drawer.narrow.matches) setDrawer(drawer, false);
      history.pushState(null, "", `#${entry.id}`);
      if (block === entry.section) {
        (headingOf(entry.section) ?? entry.section).scrollIntoView({ behavior: scrollBehavior(), block: "start" });
      } else {
        block.scrollIntoView({ behavior: scrollBehavior(), block: "center" });
      }
      showHighlight(match);
      const focusable = block === entry.section ? (headingOf(entry.section) ?? entry.section) : block;
      if (focusable instanceof HTMLElement) {
        if (!focusable.hasAttribute("tabindex")) focusable.setAttribute("tabindex", "-1");
        focusable.classList.add("llmdoc-search-target");
        focusable.focus({ preventScroll: true });
      }
      announce(`Moved to ${entry.title}`);
    }
  }

  /**
   * The first place in *entry*'s own text (not its title) where a term occurs.
   * @param {Entry} entry @param {string[]} words
   * @returns {Range | null}
   */
  function findMatch(entry, words) {
    if (!words.length) return null;
    const heading = headingOf(entry.section);
    for (const node of ownTextNodes(entry.section)) {
      if (heading && heading.contains(node)) continue;
      const lower = node.data.toLowerCase();
      for (const word of words) {
        const at = lower.indexOf(word);
        if (at >= 0) {
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + word.length);
          return range;
        }
      }
    }
    return null;
  }

  /** Open every closed <details> (deep-dives, dropdowns) around *node*. */
  function openAround(/** @type {Element} */ node) {
    for (let up = node.closest("details"); up; up = up.parentElement?.closest("details") ?? null) {
      if (up instanceof HTMLDetailsElement) up.open = true;
    }
  }

  /** Paint the match with the CSS Custom Highlight API, where the browser has it. */
  function showHighlight(/** @type {Range | null} */ range) {
    const registry = /** @type {any} */ (window.CSS)?.highlights;
    const HighlightClass = /** @type {any} */ (window).Highlight;
    if (!registry || !HighlightClass) return;
    if (range) registry.set("llmdoc-search", new HighlightClass(range));
    else registry.delete("llmdoc-search");
  }

  // -- code blocks ------------------------------------------------------------------------

  /** Display names for Pygments lexer names; others are shown as written. */
  const LANGUAGES = /** @type {Record<string, string>} */ ({
    bash: "Bash", console: "Shell", shell: "Shell", sh: "Shell", zsh: "Shell",
    python: "Python", python3: "Python", py: "Python", pycon: "Python console",
    ipython: "IPython", ipython3: "IPython", default: "Python",
    javascript: "JavaScript", js: "JavaScript", jsx: "JSX", typescript: "TypeScript",
    ts: "TypeScript", tsx: "TSX", json: "JSON", jsonc: "JSON", json5: "JSON5",
    yaml: "YAML", yml: "YAML", toml: "TOML", ini: "INI", cfg: "INI",
    sql: "SQL", postgresql: "SQL", psql: "SQL", html: "HTML", xml: "XML", css: "CSS",
    dockerfile: "Dockerfile", docker: "Dockerfile", make: "Makefile", makefile: "Makefile",
    terraform: "Terraform", hcl: "HCL", go: "Go", rust: "Rust", java: "Java",
    c: "C", cpp: "C++", csharp: "C#", ruby: "Ruby", text: "Text", none: "Text",
    markdown: "Markdown", md: "Markdown", myst: "MyST", rst: "reStructuredText",
    diff: "Diff", promql: "PromQL", nginx: "nginx", http: "HTTP", graphql: "GraphQL",
    mermaid: "Mermaid", powershell: "PowerShell", jinja: "Jinja", env: "Environment",
  });

  /** @param {Element} wrapper a div.highlight-<lexer> */
  function languageOf(wrapper) {
    for (const name of wrapper.classList) {
      if (name.startsWith("highlight-")) {
        const lexer = name.slice("highlight-".length);
        return LANGUAGES[lexer] ?? lexer;
      }
    }
    return "Code";
  }

  const MIN_LINES_FOR_NUMBERS = 4;

  function setupCodeBlocks() {
    let count = 0;
    for (const block of document.querySelectorAll('div[class*="highlight-"] > div.highlight')) {
      if (!(block instanceof HTMLElement)) continue;
      const wrapper = /** @type {Element} */ (block.parentElement);
      const pre = block.querySelector(":scope > pre");
      if (!pre) continue;
      count += 1;
      block.append(element("span", "llmdoc-code-lang", languageOf(wrapper)));
      const copy = block.querySelector(":scope > button.copybtn");
      if (copy) copy.setAttribute("aria-label", "Copy code");
      const lines = (pre.textContent ?? "").replace(/\n$/, "").split("\n").length;
      if (lines >= MIN_LINES_FOR_NUMBERS && !pre.querySelector(".linenos")) {
        const toggle = element("button", "llmdoc-linenos-toggle", "#");
        toggle.setAttribute("type", "button");
        toggle.setAttribute("aria-pressed", "false");
        toggle.setAttribute("aria-label", "Line numbers");
        toggle.title = "Show line numbers";
        toggle.addEventListener("click", () => toggleLineNumbers(block, pre, lines, toggle));
        block.append(toggle);
      }
    }
    return count;
  }

  /**
   * Show or hide a number gutter beside *pre*. It sits outside the <pre>, so copying
   * and selecting the code never pick the numbers up.
   * @param {HTMLElement} block @param {Element} pre @param {number} lines @param {HTMLElement} toggle
   */
  function toggleLineNumbers(block, pre, lines, toggle) {
    let gutter = block.querySelector(":scope > .llmdoc-gutter");
    if (!gutter) {
      gutter = element("span", "llmdoc-gutter");
      gutter.setAttribute("aria-hidden", "true");
      gutter.textContent = Array.from({ length: lines }, (_, i) => String(i + 1)).join("\n");
      block.insertBefore(gutter, pre);
    }
    const on = !block.classList.contains("llmdoc-numbered");
    block.classList.toggle("llmdoc-numbered", on);
    toggle.setAttribute("aria-pressed", String(on));
    toggle.title = on ? "Hide line numbers" : "Show line numbers";
  }

  /** The prompts sphinx-llmdoc configures sphinx-copybutton to strip (reader.py). */
  const PROMPT = /^(?:>>> |\.\.\. |\$ |In \[\d*\]: )/;

  /**
   * What the copy button copies, as sphinx-copybutton computes it: no line numbers or
   * output; where lines carry prompts, only those lines, without the prompts.
   */
  function codeText(/** @type {Element} */ pre) {
    const clone = /** @type {Element} */ (pre.cloneNode(true));
    for (const node of clone.querySelectorAll(".linenos, .go")) node.remove();
    const lines = (clone.textContent ?? "").replace(/\n$/, "").split("\n");
    const prompted = lines.filter((line) => PROMPT.test(line));
    return (prompted.length ? prompted.map((line) => line.replace(PROMPT, "")) : lines).join("\n");
  }

  /**
   * sphinx-copybutton copies through clipboard.js, which uses execCommand("copy") and
   * so needs no Clipboard API, but claims success even when the browser refuses. A
   * refused copy fires no `copy` event: then try the Clipboard API, and failing that
   * select the code for the reader's own shortcut. Either way, say what happened in
   * the live region and keep focus on the button.
   */
  function setupCopyFeedback() {
    document.addEventListener(
      "click",
      (event) => {
        const target = event.target instanceof Element ? event.target : null;
        const button = target?.closest("button.copybtn");
        if (!(button instanceof HTMLButtonElement)) return;
        const hadFocus = document.activeElement === button;
        let copied = false;
        const onCopy = () => {
          copied = true;
        };
        // clipboard.js copies synchronously in its own click listener, after this one
        document.addEventListener("copy", onCopy, true);
        window.setTimeout(() => {
          document.removeEventListener("copy", onCopy, true);
          if (hadFocus) button.focus({ preventScroll: true });
          if (copied) announce("Copied");
          else copyFallback(button);
        }, 0);
      },
      true,
    );
  }

  /** Copying through clipboard.js failed: try the Clipboard API, else select the code. */
  function copyFallback(/** @type {HTMLButtonElement} */ button) {
    const pre = button.parentElement?.querySelector(":scope > pre");
    if (!pre) return;
    const text = codeText(pre);
    const selectIt = () => {
      button.classList.remove("success");
      const range = document.createRange();
      range.selectNodeContents(pre);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      const key = /Mac|iPhone|iPad/.test(navigator.platform) ? "Command+C" : "Control+C";
      button.dataset.tooltip = `Press ${key}`;
      announce(`Copying is blocked here. The code is selected: press ${key} to copy it.`);
    };
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(text).then(() => announce("Copied"), selectIt);
    } else {
      selectIt();
    }
  }

  /** Scrollable regions must be reachable by keyboard (WCAG 2.1.1). */
  function focusableScrollers() {
    for (const node of document.querySelectorAll("article pre, article .table-wrapper")) {
      if (!(node instanceof HTMLElement)) continue;
      const scrolls = node.scrollWidth > node.clientWidth + 1 || node.scrollHeight > node.clientHeight + 1;
      if (scrolls && !node.hasAttribute("tabindex")) {
        node.setAttribute("tabindex", "0");
        node.dataset.llmdocScroller = "";
      } else if (!scrolls && node.dataset.llmdocScroller !== undefined) {
        node.removeAttribute("tabindex");
        delete node.dataset.llmdocScroller;
      }
    }
  }

  // -- print -------------------------------------------------------------------------------

  /**
   * Links whose text already is their address need no "(address)" after them in print.
   */
  function markSelfDescribingLinks() {
    for (const link of document.querySelectorAll('article a.reference.external[href^="http"]')) {
      const text = (link.textContent ?? "").trim().replace(/\/$/, "");
      const href = (link.getAttribute("href") ?? "").replace(/\/$/, "");
      if (text === href || `https://${text}` === href || `http://${text}` === href) {
        link.classList.add("llmdoc-url-shown");
      }
    }
  }

  function setupPrint() {
    /** @type {HTMLDetailsElement[]} */
    let opened = [];
    window.addEventListener("beforeprint", () => {
      opened = [];
      for (const details of document.querySelectorAll("article details:not([open])")) {
        if (!(details instanceof HTMLDetailsElement)) continue;
        details.open = true;
        opened.push(details);
      }
    });
    window.addEventListener("afterprint", () => {
      for (const details of opened) details.open = false;
      opened = [];
    });
  }

  // -- start -------------------------------------------------------------------------------

  function onKeydown(/** @type {KeyboardEvent} */ event) {
    if (event.key === "Escape" && closeOpenDrawer()) event.preventDefault();
  }

  /** Keyboard for furo's expand arrows: its checkboxes now take focus (see llmdoc.css). */
  function setupTreeKeys() {
    document.addEventListener("keydown", (event) => {
      const box = event.target;
      if (event.key !== "Enter" || !(box instanceof HTMLInputElement)) return;
      if (!box.classList.contains("toctree-checkbox")) return;
      event.preventDefault();
      box.click();
    });
  }

  function start() {
    liveRegion = element("div", "llmdoc-visually-hidden");
    liveRegion.id = "llmdoc-live";
    liveRegion.setAttribute("role", "status");
    liveRegion.setAttribute("aria-live", "polite");
    document.body.append(liveRegion);

    labelLandmarks();
    setupDrawers();
    setupTreeKeys();
    setupScrollSpy();
    setupSearch();
    setupCodeBlocks();
    setupCopyFeedback();
    setupPrint();
    markSelfDescribingLinks();
    focusableScrollers();
    let resizing = 0;
    window.addEventListener("resize", () => {
      window.clearTimeout(resizing);
      resizing = window.setTimeout(focusableScrollers, 200);
    });
    document.addEventListener("keydown", onKeydown);
    document.documentElement.classList.add("llmdoc-ready");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
