import importlib.util


def import_built(name, so_path):
    """Import the extension module ``name`` from the .so that build_module wrote."""
    spec = importlib.util.spec_from_file_location(name, so_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
