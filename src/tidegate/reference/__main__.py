"""``python -m tidegate.reference``: print docs/reference.md (regenerate the page with it)."""

import sys

from tidegate.reference import reference_markdown

sys.stdout.write(reference_markdown())
