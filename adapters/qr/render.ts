/** Text and vector renderers of a module matrix (PNG lives in image.ts). */

/**
 * The code as terminal text: two module rows per line with half-block characters, dark modules
 * drawn as spaces on a light background so it scans from a dark terminal too.
 */
export function modulesToTerminal(qr: { size: number; modules: Uint8Array }, margin = 2): string {
  const n = qr.size + 2 * margin
  const dark = (x: number, y: number) => {
    const mx = x - margin
    const my = y - margin
    return mx >= 0 && my >= 0 && mx < qr.size && my < qr.size && qr.modules[my * qr.size + mx] === 1
  }
  const lines: string[] = []
  for (let y = 0; y < n; y += 2) {
    let line = ''
    for (let x = 0; x < n; x++) {
      const top = !dark(x, y)
      const bottom = y + 1 < n ? !dark(x, y + 1) : true
      line += top && bottom ? '█' : top ? '▀' : bottom ? '▄' : ' '
    }
    lines.push(line)
  }
  return lines.join('\n')
}

export function modulesToSvg(
  qr: { size: number; modules: Uint8Array },
  o: { margin?: number; moduleSize?: number } = {},
): string {
  const margin = o.margin ?? 4
  const unit = o.moduleSize ?? 4
  const side = (qr.size + 2 * margin) * unit
  let path = ''
  for (let y = 0; y < qr.size; y++) {
    for (let x = 0; x < qr.size; x++) {
      if (qr.modules[y * qr.size + x]) path += `M${(x + margin) * unit} ${(y + margin) * unit}h${unit}v${unit}h-${unit}z`
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="${path}"/></svg>`
}
