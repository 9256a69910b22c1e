import importlib.util


def import_built(name, so_path):
    """Import the extension module ``name`` from the .so that build_module wrote."""
    spec = importlib.util.spec_from_file_location(name, so_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_error_text(kind, msg, texts, fname):
    """The checks a fuzz makes on a module's error message: each of ``texts`` is in
    it, and a kernel's error (one with "Inputs types:") lists one shape per input
    type -- those of the node it names -- and names ``fname``.  Returns whether it was
    a kernel's error."""
    import re
    for text in texts:
        assert text in msg, "%s: %r not in message:\n%s" % (kind, text, msg)
    types = re.search(r"^Inputs types: (.*)$", msg, re.M)
    shapes = re.search(r"^Inputs shapes: (.*)$", msg, re.M)
    if not (types or shapes):
        return False
    assert types and shapes and "In function: %s" % fname in msg, msg
    assert (len(re.findall(r"\([^()]*\)", shapes.group(1)))
            == types.group(1).count("TensorType(")), msg
    return True
