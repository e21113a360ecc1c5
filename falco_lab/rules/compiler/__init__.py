"""The compiler: constants, operator/type checks, the :class:`~falco_lab.rules.compiler.condition.Condition` facade and :func:`~falco_lab.rules.compiler.compile.compile_ast`."""
