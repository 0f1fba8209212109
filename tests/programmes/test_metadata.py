import textwrap
from decimal import Decimal

import pytest

from tiendo.programmes.metadata import PackageError, load_package
from tiendo.programmes.models import Indicator, LegalDocument, Programme, Target
from tiendo.units.models import Unit

GOOD = """
package: thu-nghiem
programme:
  code: TN-01
  name: Chương trình thử nghiệm
  period: 2021-2025
  owner: "02"
documents:
  - {number: 04/NQ-TU, kind: resolution, issued_on: 2020-12-01, issuer: Tỉnh ủy, summary: Về cam sành}
agencies:
  - {code: 02.SKHCN, name: Sở Khoa học và Công nghệ, parent: "02", valid_to: 2025-06-30}
components:
  - {code: VON, name: Vốn}
indicators:
  - {code: PLAN, name: Kế hoạch vốn, component: VON, measure_unit: triệu đồng}
  - {code: PAID, name: Giải ngân, component: VON, measure_unit: triệu đồng}
  - {code: RATE, name: Tỷ lệ giải ngân, measure_unit: "%", formula: PAID / PLAN * 100, decimals: 2}
targets:
  - {indicator: PLAN, unit: "02", period: 2021-2025, value: 100, document: 04/NQ-TU}
  - {indicator: PAID, unit: 02.SKHCN, period: "2022", value: 5}
"""


def write(tmp_path, text, name="goi.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_good_package_loads_once_and_a_second_load_changes_nothing(tree, tmp_path):
    path = write(tmp_path, GOOD)
    first = load_package(path)
    assert first.created["chỉ tiêu"] == 3
    assert Programme.objects.get(code="TN-01").documents.count() == 1
    assert Target.objects.count() == 2
    assert Unit.objects.get(code="02.SKHCN").parent == tree.ha_giang
    second = load_package(path)
    assert second.created == {} and second.updated == {}


def test_dry_run_writes_nothing(tree, tmp_path):
    report = load_package(write(tmp_path, GOOD), dry_run=True)
    assert report.created["chương trình"] == 1
    assert not Programme.objects.exists() and not Unit.objects.filter(code="02.SKHCN").exists()


def test_every_problem_is_named_with_file_and_key_and_nothing_is_saved(tree, tmp_path):
    bad = (
        GOOD.replace("aggregation: sum", "")
        .replace(
            "  - {code: PAID, name: Giải ngân, component: VON, measure_unit: triệu đồng}",
            "  - {code: PAID, name: Giải ngân, component: VONN, measure_unit: triệu đồng, aggregation: tong}\n"
            "  - {code: bad code, measure_unit: ha}",
        )
        .replace("formula: PAID / PLAN * 100", "formula: PAID / (PLAN")
        .replace("period: 2021-2025\n  owner", "period: 2021-2019\n  owner")
        .replace('unit: 02.SKHCN, period: "2022"', 'unit: "99", period: "2022Q7"')
    )
    path = write(tmp_path, bad)
    with pytest.raises(PackageError) as info:
        load_package(path)
    text = "\n".join(info.value.problems)
    for expected in [
        "programme.period",
        "indicators[1].component",
        "indicators[1].aggregation",
        "indicators[2].code",
        "indicators[2].name",
        "indicators[3].formula",
        "targets[1].unit",
        "targets[1].period",
    ]:
        assert f"{path}: {expected}:" in text, expected
    by_key = {problem.key: problem.code for problem in info.value.errors}
    assert by_key["indicators[1].aggregation"] == "package.bad_choice"
    assert by_key["indicators[2].code"] == "package.bad_code"
    assert by_key["indicators[2].name"] == "package.missing"
    assert by_key["indicators[3].formula"] == "package.bad_formula"
    assert by_key["targets[1].unit"] == "package.unknown_unit"
    assert info.value.code == "package.invalid"
    assert not Programme.objects.exists()
    assert not Indicator.objects.exists()
    assert not LegalDocument.objects.exists()


def test_yaml_syntax_errors_name_the_line(tmp_path, db):
    path = write(tmp_path, "package: x\nprogramme: [unclosed\n")
    with pytest.raises(PackageError) as info:
        load_package(path)
    [problem] = info.value.errors
    assert problem.code == "package.yaml_syntax" and problem.line == 3
    assert f"{path}: dòng 3, cột 1: " in str(info.value)


def test_formula_cycles_and_unknown_operands_are_refused(tree, tmp_path):
    text = GOOD.replace("formula: PAID / PLAN * 100", "formula: RATE + NOPE")
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text))
    joined = "\n".join(info.value.problems)
    assert "NOPE" in joined
    assert {"package.unknown_indicator", "package.formula_cycle"} <= set(info.value.codes)


def test_the_command_reports_errors_in_vietnamese(tree, tmp_path):
    from django.core.management import CommandError, call_command

    path = write(tmp_path, "package: x\nprogramme: {code: X}\nbogus: 1\n")
    with pytest.raises(CommandError, match="chưa nạp gì") as info:
        call_command("metadata", "load", "--system", str(path))
    assert "bogus" in str(info.value) and "programme.name" in str(info.value)


# --- what a package may contain: plain data, ASCII codes, values a column keeps exactly ---


def refused(tmp_path, text, name="goi.yaml") -> PackageError:
    path = write(tmp_path, text, name)
    with pytest.raises(PackageError) as info:
        load_package(path)
    assert not Programme.objects.exists()
    return info.value


def only_problem(error: PackageError):
    [problem] = error.errors
    return problem


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("1e309", "package.not_storable", "quá lớn"),
        ("1.0e+309", "package.not_storable", "không phải là số"),
        (".inf", "package.not_storable", "không phải là số"),
        (".nan", "package.not_storable", "không phải là số"),
        ('"99999999999999.999999"', "package.not_storable", "chữ số có nghĩa"),
        ("100000000000000", "package.not_storable", "quá lớn"),
        ("0.0000001", "package.not_storable", "chữ số thập phân"),
        ("[1, 2]", "package.not_number", "phải là một số, không phải một danh sách"),
        ("2022-01-01", "package.not_number", "phải là một số, không phải 01/01/2022"),
    ],
)
def test_a_target_no_column_can_keep_is_refused_with_its_key_path(
    tree, tmp_path, value, code, message
):
    problem = only_problem(
        refused(
            tmp_path,
            GOOD.replace("period: 2021-2025, value: 100", f"period: 2021-2025, value: {value}"),
        )
    )
    assert problem.key == "targets[0].value" and problem.code == code
    assert message in str(problem)  # which bound: the wording of core.numbers.storable_problem


def test_the_largest_target_accepted_is_stored_exactly(tree, tmp_path):
    load_package(write(tmp_path, GOOD.replace("value: 100,", 'value: "99999999999999.9",')))
    assert Target.objects.get(period="2021-2025").value == Decimal("99999999999999.9")


def test_a_target_period_in_look_alike_digits_is_stored_with_its_ascii_id(tree, tmp_path):
    load_package(write(tmp_path, GOOD.replace('period: "2022"', 'period: "٢٠٢٢"')))
    assert set(Target.objects.values_list("period", flat=True)) == {"2021-2025", "2022"}


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("{code: PLAN,", "{code: ＰＬＡＮ,", "indicators[0].code"),
        ('unit: "02", period: 2021-2025', 'unit: "٠٢", period: 2021-2025', "targets[0].unit"),
        ("{indicator: PLAN,", "{indicator: PLАN,", "targets[0].indicator"),  # Cyrillic А
        (
            "component: VON, measure_unit: triệu đồng}\n  - {code: PAID",
            "component: VОN, measure_unit: triệu đồng}\n  - {code: PAID",
            "indicators[0].component",
        ),
        ("code: TN-01", "code: TN-０1", "programme.code"),
    ],
)
def test_codes_in_a_package_are_ascii_only(tree, tmp_path, old, new, key):
    assert old in GOOD
    by_key = {
        problem.key: problem.code for problem in refused(tmp_path, GOOD.replace(old, new)).errors
    }
    assert by_key[key] in ("package.not_ascii", "package.bad_code")


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("package: a\npackage: b\n", 2, "package"),
        ("package: a\nprogramme:\n  code: X\n  name: Y\n  code: Z\n", 5, "code"),
        ("package: a\ntargets:\n  - {indicator: A, indicator: B}\n", 3, "indicator"),
    ],
)
def test_a_key_given_twice_is_refused_with_the_key_and_line(tmp_path, db, text, line, key):
    problem = only_problem(refused(tmp_path, text))
    assert problem.code == "package.duplicate_key"
    assert problem.line == line and problem.params["name"] == key
    assert f": dòng {line}: " in str(problem)


def test_a_date_that_does_not_exist_is_refused_naming_the_line(tmp_path, db):
    problem = only_problem(
        refused(tmp_path, "package: a\ndocuments:\n  - {issued_on: 2020-13-01}\n")
    )
    assert problem.code == "package.bad_date" and problem.line == 3
    assert problem.params["value"] == "2020-13-01"


def test_a_key_given_twice_in_json_is_refused_with_the_key(tmp_path, db):
    problem = only_problem(refused(tmp_path, '{"package": "a", "package": "b"}', "goi.json"))
    assert problem.code == "package.duplicate_key" and problem.params["name"] == "package"


@pytest.mark.parametrize(
    "text",
    [
        "package: &p x\nprogramme: {code: *p}\n",
        "package: x\nprogramme: &a [*a]\n",  # a cycle
        "package: x\nbase: &b {name: Y}\nprogramme:\n  <<: *b\n  code: X\n",
    ],
)
def test_anchors_and_aliases_are_refused_naming_the_line(tmp_path, db, text):
    problem = only_problem(refused(tmp_path, text))
    assert problem.code == "package.yaml_anchor" and problem.line


@pytest.mark.parametrize("name", ["goi.yaml", "goi.json"])
def test_ten_thousand_nested_lists_are_refused_with_a_message(tmp_path, db, name):
    body = "[" * 10_000 + "]" * 10_000
    problem = only_problem(refused(tmp_path, f'{{"package": "x", "programme": {body}}}', name))
    assert problem.code == "package.too_deep" and problem.params["depth"] == 20


@pytest.mark.parametrize("name", ["goi.yaml", "goi.json"])
def test_a_hundred_thousand_digit_integer_is_refused_naming_the_line(tmp_path, db, name):
    digits = "9" * 100_000
    problem = only_problem(refused(tmp_path, f'{{"package": "x",\n "programme": {digits}}}', name))
    assert problem.code == "package.number_too_long"
    if name.endswith("yaml"):
        assert problem.line == 2 and problem.params["digits"] == 100_000


def test_a_package_larger_than_the_setting_is_refused_before_it_is_parsed(tmp_path, db, settings):
    settings.PACKAGE_MAX_BYTES = 1024
    problem = only_problem(refused(tmp_path, "package: x\n# " + "a" * 2000 + "\n"))
    assert problem.code == "package.too_large" and problem.params["size"] == "1"


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

UNDER_A_MEMORY_LIMIT = """
import resource, sys
import django
django.setup()
from tiendo.programmes.metadata import PackageError, read_package

def vm_bytes():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024

resource.setrlimit(resource.RLIMIT_AS, (vm_bytes() + 200 * 1024 * 1024,) * 2)
resource.setrlimit(resource.RLIMIT_CPU, (20, 20))
try:
    read_package(sys.argv[1])
except PackageError as exc:
    [problem] = exc.errors
    print("REFUSED", problem.code, problem.line, problem.params["name"])
"""


def test_a_yaml_alias_bomb_is_refused_within_200_mb(tmp_path):
    import os
    import subprocess
    import sys

    path = write(tmp_path, BILLION_LAUGHS, "bom.yaml")
    assert path.stat().st_size < 500
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tiendo.settings"}
    done = subprocess.run(
        [sys.executable, "-c", UNDER_A_MEMORY_LIMIT, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert "MemoryError" not in done.stderr
    assert done.returncode == 0, done.stderr[-2000:]
    assert "REFUSED" in done.stdout
    assert "REFUSED package.yaml_anchor 1 a" in done.stdout


def test_the_command_refuses_aliases_in_vietnamese(tmp_path, db):
    from django.core.management import CommandError, call_command

    path = write(tmp_path, "package: &p x\nprogramme: {code: *p, name: *p}\n")
    with pytest.raises(CommandError, match="(?s)chưa nạp gì.*dữ liệu thuần"):
        call_command("metadata", "load", "--system", str(path))
