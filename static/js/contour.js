// the level line z = level of a grid, as line segments (marching squares without the
// ambiguous-saddle refinement: at this grid size the difference is invisible).
// z: rows from the top (ext.y[1]) down, columns from ext.x[0] right.

function crossing(a, b, za, zb, level) {
  const f = (level - za) / (zb - za);
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])];
}

export function boundarySegments(z, ext, level) {
  const R = z.length, C = z[0].length, segments = [];
  const at = (i, j) => [ext.x[0] + (j / (C - 1)) * (ext.x[1] - ext.x[0]), ext.y[1] - (i / (R - 1)) * (ext.y[1] - ext.y[0])];
  for (let i = 0; i < R - 1; i++) {
    for (let j = 0; j < C - 1; j++) {
      // corners clockwise from top-left, and the edges between them
      const corners = [[i, j], [i, j + 1], [i + 1, j + 1], [i + 1, j]];
      const points = [];
      for (let k = 0; k < 4; k++) {
        const [p, q] = [corners[k], corners[(k + 1) % 4]];
        const zp = z[p[0]][p[1]], zq = z[q[0]][q[1]];
        if ((zp < level) !== (zq < level)) points.push(crossing(at(...p), at(...q), zp, zq, level));
      }
      if (points.length >= 2) segments.push([points[0], points[1]]);
      if (points.length === 4) segments.push([points[2], points[3]]);
    }
  }
  return segments;
}
