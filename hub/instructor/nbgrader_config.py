"""The instructor's nbgrader on the class hub (JUPYTER_CONFIG_PATH=hub/instructor, set by hub/jupyterhub_config.py).

It loads the course's own configuration from the instructor's copy of the course (LOSSLAB_COURSE_ROOT, in their
700 home: its autograder/ is nbgrader's course root, with the gradebook), so the formgrader, `nbgrader collect`,
`release_assignment` and `make grade` all work on this course's gradebook, and adds the hub's exchange.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file
_course = Path(os.environ["LOSSLAB_COURSE_ROOT"]) / "autograder" / "nbgrader_config.py"
exec(compile(_course.read_text(), str(_course), "exec"), {"get_config": get_config, "__file__": str(_course)})  # noqa: F821
c.CourseDirectory.course_id = os.environ["LOSSLAB_COURSE_ID"]
c.Exchange.root = os.environ["LOSSLAB_EXCHANGE"]
c.Exchange.path_includes_course = True
