"""Backprop Lens engine: pure NumPy networks, losses, datasets and recorded runs.

Nothing is imported here: `import engine.course` (a learner's session, the code checker's
child process) then loads NumPy alone, not the datasets' scikit-learn. The choices for
GET /api/options are `engine.options.options()`.
"""
