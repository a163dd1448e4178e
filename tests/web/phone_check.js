/* Run in the page by tests/web/test_phone.py: every control drawn at this width, scrolled to and
   measured. Returns what is wrong, in words, and how many controls were checked. */
() => {
  const vw = document.documentElement.clientWidth;
  const problems = [];
  const wide = document.documentElement.scrollWidth;
  if (wide > vw) problems.push(`the page scrolls sideways: ${wide} px wide in ${vw} px`);
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const name = el =>
    (el.getAttribute('aria-label') || el.id || el.name || el.textContent || el.tagName).trim().slice(0, 60);
  const controls = document.querySelectorAll(
    'input:not([type=hidden]):not(.date-pick-native), select, textarea, button, a.button');
  let checked = 0;
  for (const el of controls) {
    if (el.closest('template') || el.getClientRects().length === 0) continue;  // not drawn at this width
    const target = (el.type === 'radio' || el.type === 'checkbox') && el.closest('label') ? el.closest('label') : el;
    target.scrollIntoView({block: 'center', inline: 'nearest'});
    const r = target.getBoundingClientRect();
    checked += 1;
    if (r.width < 1 || r.height < 1) { problems.push(`${name(el)}: not visible`); continue; }
    if (r.left < -0.5 || r.right > vw + 0.5) problems.push(`${name(el)}: outside the screen (${Math.round(r.left)}–${Math.round(r.right)} px of ${vw})`);
    for (let box = el.parentElement; box; box = box.parentElement) {
      if (box.scrollLeft > 0) { problems.push(`${name(el)}: behind a sideways scroll of its box`); box.scrollLeft = 0; break; }
    }
    const tappable = el.tagName === 'BUTTON' || el.classList.contains('button') || target !== el;
    if (tappable && (r.width < 24 || r.height < 24)) problems.push(`${name(el)}: too small to tap (${Math.round(r.width)}×${Math.round(r.height)} px)`);
    const x = Math.min(Math.max(r.left + r.width / 2, 0), vw - 1), y = r.top + Math.min(r.height / 2, 12);
    const hit = document.elementFromPoint(x, y);
    if (hit && !(target.contains(hit) || hit.contains(target) || (el.labels && [...el.labels].some(l => l.contains(hit)))))
      problems.push(`${name(el)}: covered by ${hit.tagName.toLowerCase()}.${hit.className}`);
  }
  return {problems, checked};
}
