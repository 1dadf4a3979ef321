"""What each pattern of the file models means, in the words a person would write it.

A config error says `gates.freeze[0]: 'Fri 3pm-Mon' is not a freeze window like "Fri 15:00-Mon 08:00"
...`, never the regular expression behind it. Keyed by the pattern text itself: a test walks the
JSON Schema and fails for any pattern without words here, so a new field cannot bring the raw
regex back.
"""

from __future__ import annotations

from pipeline.config.values import FREEZE_RE, FUNCTION_KEY, HANDLER

_DAYS = "Mon Tue Wed Thu Fri Sat Sun"

PATTERN_WORDS: dict[str, str] = {
    FREEZE_RE.pattern: f'a freeze window like "Fri 15:00-Mon 08:00" (DAY HH:MM-DAY HH:MM, 24-hour clock, '
                       f'days {_DAYS}, in the env\'s timezone)',
    r"^[0-9]{12}$": 'a 12-digit AWS account id, quoted (like "111111111111")',
    r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$": "an AWS region name (like us-east-1)",
    r"^[A-Za-z0-9_+=,.@-]{1,64}$": "an IAM role name (1-64 letters, digits or _+=,.@-; a name, not an ARN)",
    r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,128}$":
        "an IAM role ARN (like arn:aws:iam::111111111111:role/name)",
    r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9_+=,.@/-]{1,128}$":
        "an IAM role or user ARN (like arn:aws:iam::111111111111:user/name)",
    r"^[a-z][a-z0-9-]{0,19}$": "an environment name (a lower-case letter, then up to 19 lower-case letters, "
                               "digits or -)",
    r"^[a-z][a-z0-9-]{0,23}$": "a name (a lower-case letter, then up to 23 lower-case letters, digits or -)",
    r"^[A-Za-z0-9_+=,.@:/-]+$": "an external id (letters, digits or _+=,.@:/-)",
    r"^[a-z0-9-]+:[A-Za-z0-9*]+$": "an IAM action like s3:GetObject (service:Action)",
    r"^[A-Za-z][A-Za-z0-9_]*$": "an environment variable name (a letter, then letters, digits or _)",
    r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$": "a smoke case name (a letter or digit, then up to 63 letters, digits, "
                                           "spaces or _.-)",
    r"^/[^\s]*$": "a path that starts with / and has no spaces (like /health)",
    r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$": "an S3 bucket name (3-63 lower-case letters, digits, . or -)",
    r"^[^\s*?]+$": "an S3 key without spaces, * or ?",
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[A-Za-z0-9-]+$":
        "a CodeConnections connection ARN (like arn:aws:codeconnections:us-east-1:111111111111:connection/ID)",
    r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$": "a repository as owner/name",
    r"^[^\s~^:?*\[\\]+$": "a git branch name (no spaces or any of ~^:?*[\\)",
    r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$": "an email address (like alice@example.com)",
    r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$": "an SNS topic ARN "
                                                                       "(arn:aws:sns:REGION:ACCOUNT:NAME)",
    r"^[a-z0-9-]{2,40}$": "an IAM service prefix (like lambda or dynamodb)",
    FUNCTION_KEY: "a function key (a lower-case letter, then lower-case letters, digits or -)",
    HANDLER: "a handler name (1-128 letters, digits or _.-)",
}


def pattern_words(pattern: str) -> str | None:
    return PATTERN_WORDS.get(pattern)
