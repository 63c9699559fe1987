"""Parameter-free differentiable renderers ``P``: they own no parameters, ever."""
