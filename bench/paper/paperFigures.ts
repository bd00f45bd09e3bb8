/** The paper's own numbers (../shared/paper.md, tables 1–3: VGG16, mean ± std over two runs), printed beside ours. */

export const PAPER_TABLE1 = [
  { dataset: 'TF-Flowers', plain: '80.38 ± 0.38', structured: '80.45 ± 0.86', centrality: '81.75 ± 0.57' },
  { dataset: 'Oxford-Flowers102', plain: '30.88 ± 1.39', structured: '28.67 ± 1.03', centrality: '43.14 ± 0.00' },
];

/** Table 2: Oxford-Flowers102 accuracy by pruning ratio (τ not stated; 0.3's 43.14 equals table 3's τ = 0.2 row). */
export const PAPER_TABLE2: Record<string, string> = {
  '0.3': '43.14 ± 0.00',
  '0.5': '46.82 ± 3.12',
  '0.8': '45.35 ± 0.35',
  '0.9': '45.53 ± 0.09',
};

/** Table 3: Oxford-Flowers102 accuracy by similarity threshold τ at ratio 0.5. */
export const PAPER_TABLE3: Record<string, string> = {
  '0.2': '43.14 ± 0.00',
  '0.5': '46.50 ± 0.11',
  '0.8': '48.26 ± 1.07',
};
