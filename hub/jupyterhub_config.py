"""JupyterHub for a Loss Lab class on one machine (started by ``python -m hub.site up``: ``make hub``).

It reads the run's state file (``LOSSLAB_HUB_STATE``: users, port, authenticator, isolation) that hub/site.py
wrote. The hub runs as root on 127.0.0.1 and starts each user's server with JupyterHub's LocalProcessSpawner as
that system user (its own uid, its 700 home). Students get the learner set-up with the Assignment List and
Validate (hub/student/), the instructor the formgrader on the course in their home (hub/instructor/).
"""

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hub.site import State, env_for, student_wrapper, users_venv  # noqa: E402

c = get_config()  # noqa: F821 - provided by traitlets when JupyterHub loads this file

state = State(**json.loads(Path(os.environ["LOSSLAB_HUB_STATE"]).read_text()))
root = Path(state.root)

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = state.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = state.hub_api_port  # free ports: several hubs (tests) may run at once
c.JupyterHub.bind_url = f"http://127.0.0.1:{state.port}"
c.JupyterHub.db_url = f"sqlite:///{root / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(root / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(root / "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [os.environ["LOSSLAB_HUB_CHP"]]
c.ConfigurableHTTPProxy.pid_file = str(root / "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{state.proxy_api_port}"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

users = [state.instructor, *state.students]
if state.authenticator == "shared":
    # `make classroom`: one shared password (SharedPasswordAuthenticator), the users named by the roster.
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = state.passwords["*"]
else:
    # `make hub`: the system users' own passwords (PAM).
    c.JupyterHub.authenticator_class = "pam"
    c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = set(users)
c.Authenticator.enable_auth_state = False

# nbgrader's JupyterHub groups: formgrade-<course> for the graders, nbgrader-<course> for the students.
c.JupyterHub.load_groups = {
    f"formgrade-{state.course_id}": {"users": [state.instructor]},
    f"nbgrader-{state.course_id}": {"users": list(state.students)},
}
# The classroom driver (hub/classroom.py) talks to the hub and to each user's server with this token.
c.JupyterHub.services = [{"name": "losslab-classroom", "api_token": state.service_token}]
c.JupyterHub.load_roles = [
    {
        "name": "losslab-classroom",
        "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users"],
        "services": ["losslab-classroom"],
    }
]

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.cpu_limit = None


def _pre_spawn(spawner) -> None:  # a LocalProcessSpawner
    """Each user's server: their environment, and for a student the isolation wrapper."""
    name = spawner.user.name
    spawner.environment = env_for(state, name)
    python = str(users_venv(state.root) / "bin" / "python")
    spawner.cmd = [*student_wrapper(state, name), python, "-m", "jupyterhub.singleuser"]
    spawner.notebook_dir = str(state.home(name))


c.Spawner.pre_spawn_hook = _pre_spawn
