"""pytest set-up for ``pytest book --nbval``: numbers in text outputs compared with a tolerance.

See book/nbval_tolerance.py for the rule and the measured tolerance.
"""

import nbval_tolerance

nbval_tolerance.install()
