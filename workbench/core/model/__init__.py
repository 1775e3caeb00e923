"""Networks: the layer registry, the Sequential builder with shape inference, init schemes
and presets. Import from the submodules (``workbench.core.model.builder`` ...)."""
