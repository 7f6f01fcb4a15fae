"""Loss Lab's test and developer tooling: ``make bench`` (notebooks, the doctor, JupyterLab's footprint), the
GPU bench and the throwaway JupyterLab server behind the browser tests. Learners never import it; ``losslab``
does not either (tests/test_structure.py checks)."""
