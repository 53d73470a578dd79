"""The service layer every front end uses (GUI, CLI, import, sync).

Importing the package registers the validation rules, so no write can skip them.
"""

from fieldrep.storage.services import rules as _rules  # noqa: F401  (registers the rules)
