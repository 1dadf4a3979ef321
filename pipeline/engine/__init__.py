"""Orchestration: carries out plans made by the pure core through the AWS adapters.

Commands call the engine; the engine calls core (decisions) and aws (calls). It holds no
AWS details itself and makes no decision the core could make.
"""
