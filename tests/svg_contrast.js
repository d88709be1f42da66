// Contrast of every piece of SVG text against what is painted under it (WCAG 2.1 AA).
// Used by tests/test_mermaid.py through Playwright's page.evaluate(source, background).
(pageBackground) => {
  const parse = (value) => {
    const m = /rgba?\(([^)]+)\)/.exec(value || "");
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, bottom) => {
    const a = top.a + bottom.a * (1 - top.a);
    const mix = (k) => (top[k] * top.a + bottom[k] * bottom.a * (1 - top.a)) / (a || 1);
    return { r: mix("r"), g: mix("g"), b: mix("b"), a };
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const opacity = (el, stop) => { let o = 1; for (let e = el; e && e !== stop; e = e.parentElement) o *= Number(getComputedStyle(e).opacity); return o; };
  const problems = [];
  let checked = 0;
  for (const svg of document.querySelectorAll("svg")) {
    if (!svg.checkVisibility()) continue;
    const all = [...svg.querySelectorAll("*")];
    const shapes = all.filter((e) => e instanceof SVGGeometryElement && !e.closest("marker, defs, clipPath, mask"));
    for (const el of all) {
      if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
      if (el.closest("marker, defs, title, desc, style")) continue;
      const box = el.getBoundingClientRect();
      if (!box.width || !box.height || !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
      checked++;
      const cs = getComputedStyle(el);
      const isSvgText = el instanceof SVGElement;
      const fg = parse(isSvgText ? cs.fill : cs.color);
      if (!fg) { problems.push({ text: el.textContent.trim(), why: "colour " + cs.fill }); continue; }
      fg.a *= opacity(el, svg) * (isSvgText ? Number(cs.fillOpacity) : 1);
      const x = box.left + box.width / 2, y = box.top + box.height / 2;
      let bg = parse(pageBackground);
      if (el.classList.contains("sequenceNumber")) {
        // Drawn on the line's start marker, which is not part of the hit-testable geometry.
        const dot = svg.querySelector("marker[id$='sequencenumber'] circle");
        if (dot) bg = over(parse(getComputedStyle(dot).fill), bg);
      }
      for (const shape of el.classList.contains("sequenceNumber") ? [] : shapes) {
        if (!(shape.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)) continue;
        const s = getComputedStyle(shape);
        const fill = parse(s.fill);
        if (!fill || s.visibility === "hidden" || s.display === "none") continue;
        const ctm = shape.getScreenCTM();
        if (!ctm) continue;
        const pt = new DOMPoint(x, y).matrixTransform(ctm.inverse());
        if (!shape.isPointInFill(pt)) continue;
        fill.a *= Number(s.fillOpacity) * opacity(shape, svg);
        bg = over(fill, bg);
      }
      if (!isSvgText) {
        const chain = [];
        for (let e = el; e && !(e instanceof SVGElement); e = e.parentElement) chain.unshift(e);
        for (const e of chain) {
          const c = parse(getComputedStyle(e).backgroundColor);
          if (c && c.a > 0) { c.a *= opacity(e, svg); bg = over(c, bg); }
        }
      }
      const color = over(fg, bg);
      const size = parseFloat(cs.fontSize), bold = Number(cs.fontWeight) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      const r = ratio(color, bg);
      if (r < need) problems.push({ svg: svg.id, text: el.textContent.trim().slice(0, 30), ratio: Math.round(r * 100) / 100, fg: `${cs.fill}|${cs.color}`, bg: `rgb(${bg.r | 0},${bg.g | 0},${bg.b | 0})`, cls: el.getAttribute("class") });
    }
  }
  return { checked, problems };
}
