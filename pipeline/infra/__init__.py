"""Infrastructure as templates: naming, rendering and the bootstrap stub. Pure: no AWS calls here."""
