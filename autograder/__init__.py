"""Loss Lab's nbgrader course: configuration, the release of course/ from solutions/, and the grading driver.

Run the verbs through the Makefile (`make release`, `make grade ASSIGNMENT=...`); nbgrader reads
autograder/nbgrader_config.py, so nbgrader commands run with autograder/ as the working directory.
"""
