"""The emulator's authorization layer: who signed each request, which IAM actions on which resources it
needs, and AWS's answer when a policy does not allow it (`layer.py`; evaluation in `pipeline.local.iam`).
"""
