/** Within `threshold` px of the bottom counts as "at the bottom": sub-pixel scroll positions never hit zero. */
export function isNearBottom(
  el: { scrollTop: number; scrollHeight: number; clientHeight: number },
  threshold = 80,
): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight <= threshold;
}
