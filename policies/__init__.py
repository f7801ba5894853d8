"""llm-platform's CrossGuard policy pack: `pulumi preview --policy-pack policies`.

The policies live in ``policies.rules`` (importable by tests and the offline plan); ``__main__.py`` is the
pack's entry point, which constructs the ``PolicyPack`` and so starts serving the engine.
"""
