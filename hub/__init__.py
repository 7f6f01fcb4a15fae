"""A class on JupyterHub: make hub (site.py), make classroom (classroom.py, checks.py), jupyterhub_config.py."""
