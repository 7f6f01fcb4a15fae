"""Loss Lab's developer tooling: ``make bench`` (notebooks, the doctor, JupyterLab's footprint), the GPU bench
and the throwaway JupyterLab server behind the browser tests. Learners never import it; ``losslab`` does not."""
