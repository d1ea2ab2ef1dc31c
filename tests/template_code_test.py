"""app/core/template_code.py: compiled templates are shared by every app of a process, an edited
template is compiled again, and each environment still renders with its own globals."""
from jinja2 import DictLoader, Environment

from app.core.template_code import TEMPLATE_CODE, SharedTemplateCode


def _counting(env: Environment) -> list[str]:
    compiled: list[str] = []
    original = env.compile

    def compile_(source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return original(source, name, filename, raw, defer_init)

    env.compile = compile_
    return compiled


def test_a_second_app_renders_a_page_without_compiling_its_templates(tmp_path):
    from app.bootstrap import create_app

    settings = {"DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}", "TESTING": True}
    first, second = create_app(settings), create_app(settings)
    assert first.jinja_env.bytecode_cache is TEMPLATE_CODE is second.jinja_env.bytecode_cache
    first.jinja_env.get_template("errors/error.html")
    compiled = _counting(second.jinja_env)
    template = second.jinja_env.get_template("errors/error.html")
    assert compiled == [] and template.environment is second.jinja_env


def test_an_edited_template_is_compiled_again_and_each_environment_keeps_its_globals():
    cache = SharedTemplateCode()
    sources = {"page.html": "Hello {{ who }}"}
    one = Environment(loader=DictLoader(sources), bytecode_cache=cache)
    two = Environment(loader=DictLoader(sources), bytecode_cache=cache)
    one.globals["who"], two.globals["who"] = "branch", "student"
    compiled_one, compiled_two = _counting(one), _counting(two)
    assert one.get_template("page.html").render() == "Hello branch"
    assert two.get_template("page.html").render() == "Hello student"
    assert compiled_one == ["page.html"] and compiled_two == [] and len(cache) == 1

    sources["page.html"] = "Goodbye {{ who }}"  # the same name, a new source: its checksum no longer matches
    three = Environment(loader=DictLoader(sources), bytecode_cache=cache)
    three.globals["who"] = "instructor"
    compiled_three = _counting(three)
    assert three.get_template("page.html").render() == "Goodbye instructor"
    assert compiled_three == ["page.html"] and len(cache) == 1


def test_the_cache_holds_at_most_its_limit():
    cache = SharedTemplateCode(limit=2)
    env = Environment(loader=DictLoader({f"t{n}.html": f"{n}" for n in range(4)}), bytecode_cache=cache)
    for n in range(4):
        assert env.get_template(f"t{n}.html").render() == str(n)
    assert len(cache) == 2
