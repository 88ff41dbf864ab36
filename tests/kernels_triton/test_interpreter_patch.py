"""conftest.py's one-time scan of triton.language's builtins patches what triton's own scan does."""

import pytest

interp = pytest.importorskip("triton.runtime.interpreter")
if not hasattr(interp._patch_builtin, "triton_scan"):
    pytest.skip("the kernels are compiled (CUDA) or this triton's interpreter differs: nothing was changed",
                allow_module_level=True)

import triton.language as tl


def _patched(patch, pkgs):
    """{(package, name): the original member wrapped} of one patch over ``pkgs``, then restored."""
    scope = interp._LangPatchScope()
    for pkg in pkgs:
        patch(pkg, interp.interpreter_builder, scope)
    changed = {(id(pkg), name): getattr(pkg, name).__kwdefaults__["member"] for pkg, name, _ in scope._changes}
    return scope, changed


def test_the_scan_once_patches_what_triton_patches_at_a_launch_and_inside_it():
    pkgs = [tl, tl.core, tl.tensor, tl.math, tl.core.tensor_descriptor_base]
    ours, theirs = interp._patch_builtin, interp._patch_builtin.triton_scan
    scope, by_triton = _patched(theirs, pkgs)
    scope.restore()
    assert len(by_triton) > 100  # tl.load, tl.dot, tensor.__add__ ... all found
    scope, by_us = _patched(ours, pkgs)
    assert by_us == by_triton  # the same attributes, each wrapping the same original
    # inside a launch (everything patched) a helper's call patches nothing, as triton's scan
    inner_triton, inner_theirs = _patched(theirs, pkgs)
    inner_us, inner_ours = _patched(ours, pkgs)
    assert inner_theirs == inner_ours == {}
    inner_us.restore()
    inner_triton.restore()
    scope.restore()  # and afterwards every original is back in place
    assert all(tl.core.is_builtin(getattr(pkg, name)) for pkg in pkgs for (i, name) in by_us if i == id(pkg))
