# A learner's JupyterLab (read through JUPYTER_CONFIG_PATH, set by ./start; see README.md beside this file).
# JupyterLab's default settings come from this folder's settings/overrides.json: closing a notebook's tab shuts its
# kernel down (@jupyterlab/notebook-extension:tracker kernelShutdown), so a 2 GB session does not keep a
# TensorFlow kernel per notebook ever opened. A learner can still change it in Settings.
from pathlib import Path

c = get_config()  # noqa: F821
c.LabApp.app_settings_dir = str(Path(__file__).resolve().parent / "settings")
