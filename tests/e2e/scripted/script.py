"""The scripted model's answers for the end-to-end tests, one rule per goal.

Every rule keys on the goal as the build prompt states it (``# Goal\\n<goal>``), so a revision request (which
repeats the first user message) gets the same answer again. Each test uses its own project, so sessions and
their histories never meet.
"""

from __future__ import annotations

from typing import Any

OPS = "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a + b\n"

FIX_SUBTRACT = (
    "subtract adds; it should subtract.\n\n"
    "```python\n"
    "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
    "```\n"
)

DOCSTRING_ADD = (
    '<<<<<<< INSERT AFTER calc/ops.py\ndef add(a, b):\n=======\n    """Add two numbers."""\n>>>>>>> END\n'
)

# The file the all-kinds answer works on, and what it must become.
KINDS_OPS = (
    'import math\n\n\ndef add(a, b):\n    print("debug")\n    return a + b\n\n\n'
    "def subtract(a, b):\n    return a + b\n"
)
KINDS_OPS_AFTER = (
    "import math\nimport operator\n\n\ndef add(a, b):\n    return a + b\n\n\n"
    "# subtract: a minus b\ndef subtract(a, b):\n    return a - b\n"
)
ALL_KINDS = (
    "Six blocks, every kind.\n\n```\n"
    "<<<<<<< REPLACE `calc/ops.py`\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n>>>>>>> END\n\n"
    '<<<<<<< INSERT AFTER "calc/ops.py"\nimport math\n=======\nimport operator\n>>>>>>> END\n\n'
    "<<<<<<< INSERT BEFORE 'calc/ops.py'\ndef subtract(a, b):\n=======\n# subtract: a minus b\n>>>>>>> END\n"
    "```\n\nThen the rest, outside a fence:\n\n"
    '<<<<<<< DELETE calc/ops.py\n    print("debug")\n>>>>>>> END\n\n'
    "<<<<<<< CREATE calc/__init__.py\nfrom .ops import subtract\n>>>>>>> END\n\n"
    "<<<<<<< REMOVE calc/legacy.py\n>>>>>>> END\n"
)

# The second block's anchor exists only once the first block has been applied.
SEQUENTIAL = (
    "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n\n\ndef negate(a):\n    return -a\n>>>>>>> END\n"
    "<<<<<<< REPLACE calc/ops.py\ndef negate(a):\n    return -a\n=======\n"
    "def negate(a):\n    return 0 - a\n>>>>>>> END\n"
)

# Indented by four more spaces than the file, with trailing spaces: matched only by the tolerant tier.
TOLERANT = (
    "<<<<<<< REPLACE calc/ops.py\n    def subtract(a, b):   \n        return a + b  \n=======\n"
    "    def subtract(a, b):\n        return a - b\n>>>>>>> END\n"
)

AMBIGUOUS = "<<<<<<< REPLACE calc/ops.py\n    return a + b\n=======\n    return 0\n>>>>>>> END\n"

HALF_BAD = (
    "<<<<<<< REPLACE README.md\nhello\n=======\nbye\n>>>>>>> END\n"
    "<<<<<<< REPLACE calc/ops.py\ndef multiply(a, b):\n=======\ndef times(a, b):\n>>>>>>> END\n"
)

ESCAPES = {
    "escape-dotdot": "<<<<<<< CREATE ../evil.py\nx = 1\n>>>>>>> END\n",
    "escape-absolute": "<<<<<<< CREATE /tmp/ai-e2e-evil.py\nx = 1\n>>>>>>> END\n",
    "escape-gitdir": "<<<<<<< CREATE .git/hooks/post-commit\necho owned\n>>>>>>> END\n",
    "escape-symlink": "<<<<<<< CREATE outside/evil.py\nx = 1\n>>>>>>> END\n",
}

CRLF = "<<<<<<< REPLACE win.py\ny = 2\n=======\ny = 3\n>>>>>>> END\n"

CREATE_EXISTING = "<<<<<<< CREATE README.md\nreplaced\n>>>>>>> END\n"

READ_FIRST = "I need to see the test first.\n\n<<<<<<< READ tests/test_ops.py\n>>>>>>> END\n"
TEST_OPS = "from calc.ops import subtract\n\n\ndef test_sub():\n    assert subtract(3, 1) == 2\n"

PROSE_ONLY = "Sure! Here is the fixed function:\n\n```python\ndef subtract(a, b):\n    return a - b\n```\n"

# Resolving a merge conflict: the anchor holds a `=======` line of its own, so the block has two of them.
CONFLICTED = "x = 1\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> feature\nz = 4\n"
TWO_SEPARATORS = (
    "<<<<<<< REPLACE conflict.py\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> feature\n=======\n"
    "y = 3\n>>>>>>> END\n"
)

MALFORMED = "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n    return a - b\n"

# The fix loop: the failing unittest is named in the prompt the loop sends.
FIX_RIGHT = (
    "subtract adds.\n\n<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)
FIX_WRONG = (
    "Maybe multiply?\n\n<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a * b\n>>>>>>> END\n"
)


def goal(text: str) -> dict[str, Any]:
    return {"contains": f"# Goal\n{text}"}


def rules() -> list[dict[str, Any]]:
    return [
        {"when": goal("fix-sub"), "reply": FIX_SUBTRACT},
        {"when": goal("docstring-add"), "reply": DOCSTRING_ADD},
        {"when": goal("cloned-repo"), "reply": FIX_SUBTRACT},
        {"when": goal("model-flags"), "reply": FIX_SUBTRACT},
        {"when": goal("all-kinds"), "reply": ALL_KINDS},
        {"when": goal("sequential-anchor"), "reply": SEQUENTIAL},
        {"when": goal("tolerant-ws"), "reply": TOLERANT},
        {"when": goal("ambiguous-anchor"), "reply": AMBIGUOUS},
        {"when": goal("half-bad"), "reply": HALF_BAD},
        *({"when": goal(name), "reply": reply} for name, reply in ESCAPES.items()),
        {"when": goal("crlf-edit"), "reply": CRLF},
        {"when": goal("create-existing"), "reply": CREATE_EXISTING},
        {"when": {**goal("read-first"), "not_contains": "assert subtract(3, 1) == 2"}, "reply": READ_FIRST},
        {"when": goal("read-first"), "reply": FIX_SUBTRACT},
        {"when": goal("prose-only"), "reply": PROSE_ONLY},
        {"when": goal("empty-reply"), "reply": ""},
        {"when": goal("malformed-block"), "reply": MALFORMED},
        {"when": goal("two-separators"), "reply": TWO_SEPARATORS},
        {"when": goal("status-401"), "status": 401, "error": "invalid api key"},
        # --continue: the second goal sees the first one's exchange only when the history is sent.
        {"when": {**goal("continue-beta"), "contains": ["# Goal\ncontinue-beta", "CREATE alpha.txt"]},
         "reply": "<<<<<<< CREATE beta.txt\nwith history\n>>>>>>> END\n"},
        {"when": goal("continue-beta"), "reply": "<<<<<<< CREATE plain.txt\nno history\n>>>>>>> END\n"},
        {"when": goal("continue-alpha"), "reply": "<<<<<<< CREATE alpha.txt\nalpha\n>>>>>>> END\n"},
        {"when": {"contains": "test_subtract_right"}, "reply": FIX_RIGHT},
        {"when": {"contains": "test_subtract_wrong"}, "reply": FIX_WRONG},
    ]  # fmt: skip
