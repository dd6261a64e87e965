"""Argument checks shared by the layers: one message shape for every error."""


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {sorted(choices)}. Received: {name}={value!r}"
        )


def check_positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )


def check_rate(name, value):
    if not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value!r}")


def check_recurrent(cell, cells, units, num_layers, dropout):
    """The arguments every recurrent stack takes."""
    check_choice("cell", cell, cells)
    check_positive_int("units", units)
    check_positive_int("num_layers", num_layers)
    check_rate("dropout", dropout)
