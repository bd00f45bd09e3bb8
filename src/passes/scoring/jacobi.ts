/**
 * All eigenpairs of a small dense symmetric matrix by cyclic Jacobi rotations (robust, no tuning; O(m³) per sweep,
 * so only for m up to ~100: small components and Lanczos' tridiagonal matrices).
 * `a` is m×m row-major and is overwritten. Returns eigenvalues and the eigenvectors as columns of m×m `vectors`.
 */
export function symmetricEigen(a: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  const v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  let scale = 0;
  for (let i = 0; i < m * m; i++) scale += a[i] * a[i];
  const floor = 1e-30 * scale;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += a[p * m + q] * a[p * m + q];
    if (off <= floor || off === 0) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = a[p * m + q];
        if (apq === 0) continue;
        const theta = (a[q * m + q] - a[p * m + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← Jᵀ A J on rows/columns p and q; V ← V J.
        for (let k = 0; k < m; k++) {
          const akp = a[k * m + p];
          const akq = a[k * m + q];
          a[k * m + p] = c * akp - s * akq;
          a[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = a[p * m + k];
          const aqk = a[q * m + k];
          a[p * m + k] = c * apk - s * aqk;
          a[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = v[k * m + p];
          const vkq = v[k * m + q];
          v[k * m + p] = c * vkp - s * vkq;
          v[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(m);
  for (let i = 0; i < m; i++) values[i] = a[i * m + i];
  return { values, vectors: v };
}

/** The eigenpair with the largest eigenvalue, its vector signed so that its entries sum to ≥ 0 (Perron's sign). */
export function principalOfDense(a: Float64Array, m: number): { value: number; vector: Float64Array } {
  const { values, vectors } = symmetricEigen(a, m);
  let top = 0;
  for (let i = 1; i < m; i++) if (values[i] > values[top]) top = i;
  const vector = new Float64Array(m);
  let sum = 0;
  for (let k = 0; k < m; k++) sum += (vector[k] = vectors[k * m + top]);
  if (sum < 0) for (let k = 0; k < m; k++) vector[k] = -vector[k];
  return { value: values[top], vector };
}
