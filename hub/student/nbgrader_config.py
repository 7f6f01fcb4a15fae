"""A student's nbgrader on the class hub (JUPYTER_CONFIG_PATH=hub/student, set by hub/jupyterhub_config.py).

The course and the exchange come from the hub's environment; a student has no course folder of their own
(fetched assignments land in their home). Validate uses the grader's per-cell time limit.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file
c.CourseDirectory.course_id = os.environ["LOSSLAB_COURSE_ID"]
c.Exchange.root = os.environ["LOSSLAB_EXCHANGE"]
c.Exchange.path_includes_course = True
c.Execute.timeout = 120
