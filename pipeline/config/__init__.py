"""Environment configuration: YAML with line numbers -> merged, validated, typed models. Pure: no AWS."""
