"""The reference spec "beijing-reference": it loads, its schemas are valid, its code sets are
complete where they claim to be, and every rule, reference and code set it names exists."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import jsonschema
import pytest

import hlwjr
from hlwjr.validation._rules import RULES

SPEC_DIR = Path(hlwjr.__file__).parent / "specs" / "beijing-reference"

CORE = [
    "unit",
    "dept",
    "doctor",
    "consult",
    "revisit",
    "emr",
    "recipe",
    "recipe_audit",
    "dispensing",
    "settlement",
    "evaluation",
    "complaint",
]

#: record-rule ids of docs/DESIGN.md ("Rule registry")
DESIGN_RECORD_RULES = {
    "id_number",
    "id_birth_sex",
    "code_name_match",
    "required_if",
    "time_order",
    "non_negative",
    "sum_of_lines",
    "sum_of_fields",
    "equals",
    "revisit_only",
    "no_controlled_drugs",
    "different_persons",
}
#: rule params that name a field of the record (F in DESIGN.md)
FIELD_PARAMS = {
    "number",
    "type",
    "birthday",
    "sex",
    "age",
    "at",
    "code",
    "name",
    "total",
    "items",
    "field",
    "flag",
    "diagnosis",
}
FIELD_LIST_PARAMS = {"fields", "parts"}
COMMON_HEADER = ["unitID", "organID", "organName", "updateTime"]
PROVENANCE_TAGS = {"NG", "NGR", "TJ", "SZ", "HZ", "I"}


@pytest.fixture(scope="module")
def spec():
    return hlwjr.load_spec("beijing-reference")


def test_default_spec_is_the_reference_and_says_it_is_not_official(spec):
    assert hlwjr.load_spec().id == "beijing-reference"
    assert spec.official is False
    assert "非北京市官方文档" in spec.notice and "推断" in spec.notice
    assert "非官方" in spec.label
    assert set(spec.provenance_tags) == PROVENANCE_TAGS


def test_the_twelve_core_data_sets_in_upload_order(spec):
    assert [d.code for d in spec.top_level()] == CORE
    order = {d.code: i for i, d in enumerate(spec.top_level())}
    assert spec.dataset("recipe_detail").parent == "recipe"
    assert spec.children("recipe")[0].code == "recipe_detail"
    for ds in spec.top_level():
        for dep in ds.depends_on:
            assert order[dep] < order[ds.code], (ds.code, dep)


@pytest.mark.parametrize(
    "alias, code",
    [
        ("DS01", "unit"),
        ("DS02", "dept"),
        ("DS03", "doctor"),
        ("DS04", "consult"),
        ("DS05", "revisit"),
        ("DS06", "emr"),
        ("DS07a", "recipe"),
        ("DS07b", "recipe_detail"),
        ("DS08", "recipe_audit"),
        ("DS09", "dispensing"),
        ("DS10", "settlement"),
        ("DS11", "evaluation"),
        ("DS12", "complaint"),
        ("uploadRecipeIndicators", "recipe"),
        ("uploadReferralIndicators", "revisit"),
        ("uploadConsultIndicators", "consult"),
        ("uploadRecipeVerificationIndicators", "dispensing"),
        ("uploadElectMedicalRecord", "emr"),
        ("uploadBusinessInfoAfter", "evaluation"),
        ("pushMedicalDispute", "complaint"),
        ("uploadRecipeAuditIndicators", "recipe_audit"),
        ("在线处方", "recipe"),
        ("在线复诊", "revisit"),
    ],
)
def test_data_sets_are_found_by_alias_and_chinese_name(spec, alias, code):
    assert spec.dataset(alias).code == code


def test_every_top_level_data_set_carries_the_common_header(spec):
    for ds in spec.top_level():
        assert list(ds.fields)[:4] == COMMON_HEADER, ds.code
        for k in COMMON_HEADER:
            assert ds.fields[k].is_required
        assert ds.key[0] == "organID", ds.code


#: every field of the research tables (platform-research.md §5), "a / b" rows split
RESEARCH_FIELDS = {
    "unit": "secondName internetPermit registerNumber levelId grade categoryId legalRepresentative "
    "chargeRepresentative address postcode areaName authority passDate passCode beginDate endDate "
    "telNum doctorProtocol userProtocol",
    "dept": "subjectCode subjectName deptID deptName deptCategory desc note principalDoctorCertID "
    "principalDoctorName deputyDoctorCertID deputyDoctorName applyDate internetFlag",
    "doctor": "doctorID doctorName doctorCertID doctorWorkType sex birthday national mobile doctorTileID "
    "doctorTile subjectCode subjectName doctorCertCode doctorWorkCode doctorUnitName doctorAreaName "
    "firstWorkUnitId firstWorkUnitName firstWorkAreaName secondWorkUnitId secondWorkUnitName "
    "secondWorkAreaName thirdWorkUnitId thirdWorkUnitName thirdWorkAreaName doctorOrganName "
    "doctorWorkDate doctorYears policyNo policyStartDate policyEndDate whitelistFlag",
    "consult": "bussID subjectCode subjectName deptID deptName doctorId doctorCertID doctorName "
    "patientCertType patientCertID patientName age sex mobile consultationType "
    "onsultationAttribute applyDate startDate endDate paymentChannel consultationPrice content "
    "answerFlag refuseTime refuseReason refuseType processDataURL",
    "revisit": "bussID subjectCode subjectName deptID deptName doctorId doctorCertID doctorName "
    "patientCertType patientCertID patientName age sex mobile guardianCertID guardianName "
    "guardianMobile returnVisitType cardType cardNo referralFlag originalDiagnosis firstDiagnosis "
    "diseasesHistory mainDiagnoseCode thisDiagnosis diagNoFillReason applyDate startDate endDate "
    "paymentChannel returnVisitPrice answerFlag refuseTime refuseReason refuseType processDataURL",
    "emr": "caseNo furtherConsultNo deptID deptName doctorID doctorName doctorCertID visitDate patientName "
    "patientSex patientAge patientIdcardType patientIdcardNum phone chiefComplaint presentHistory "
    "pastHistory allergyHistory diagnosisCode furtherConsultDiagnosis diagnosticOpinion",
    "recipe": "recipeID recipeUniqueID hosCode hosName bussID bussSource originalDiagnosis subjectCode "
    "subjectName deptID deptName doctorId doctorCertID doctorName auditDoctorId auditDoctorCertID "
    "auditDoctor checkDate patientCardType patientCertID patientName age sex mobile costType cardType "
    "cardNo guardianCertID guardianName allergyInfo diseasesHistory icdCode icdName recipeType "
    "packetsNum datein effectivePeriod startDate endDate deliveryType totalFee isPay tradeNo "
    "verificationStatus verificationTime verificationUnit rationalFlag rationalDrug CAInfo "
    "doctorSign auditDoctorSign recipeStatus cancelFlag orderList",
    "recipe_detail": "recipeDetailId lineNo drcode drname drmodel pack packUnit drugManf dosageForm admission "
    "frequency dosage drunit dosageTotal doseUnit useDays price totalPrice otcFlag remark "
    "tcmDescribe",
    "recipe_audit": "recipeCode organizeCode auditDoctorIdCard auditDoctorName auditDoctorSign auditStatus "
    "auditTime auditOpinion auditDeptID auditSubjectCode auditProTitle",
    "dispensing": "bussID recipeUniqueID recipeID deliveryType verificationTime deliveryFirm deliveryPeople "
    "deliverySTDate deliveryENDDate logisticsNo address deliveryFee totalFee isPay tradeNo "
    "giveMode payMode",
    "settlement": "settleID bussID businessType recipeID totalFee selfPay insurancePay costType "
    "paymentChannel tradeNo payTime refundFlag refundTime refundFee",
    "evaluation": "evaluateID businessType bussID deptID deptName doctorId doctorCertID doctorName "
    "satisfaction scoring evaluation complaints evaluationPeople evaluationTime",
    "complaint": "eventID businessType patientName mobile eventDescription eventDate eventReason takeSteps "
    "damageDegree Improvements reportDept reportPerson reportDate complaintType complaintChannel "
    "handleResult handleTime feedbackTime",
}


@pytest.mark.parametrize("code", list(RESEARCH_FIELDS))
def test_full_field_lists(spec, code):
    ds = spec.dataset(code)
    missing = [k for k in RESEARCH_FIELDS[code].split() if k not in ds.fields]
    assert not missing
    header = COMMON_HEADER if ds.parent is None else []
    extra = set(ds.fields) - set(RESEARCH_FIELDS[code].split()) - set(header)
    assert extra <= {"auditProTitleName"}  # the only field added beyond the research tables


def test_field_attributes_are_complete(spec):
    for ds in spec.datasets.values():
        for f in ds:
            where = f"{ds.code}.{f.key}"
            assert f.name and f.description, where
            assert f.example is not None or f.type == "array", where
            assert f.provenance and set(f.provenance.split(",")) <= PROVENANCE_TAGS, where
            assert re.fullmatch(r"[A-Z0-9]+", f.aliases["pinyin"]), where
            if f.type == "string":
                assert f.max_length, where
            if f.type == "decimal":
                assert f.total_digits and f.precision is not None, where
            if "ws" in f.aliases:
                assert re.fullmatch(r"DE\d\d\.\d\d\.\d{3}\.\d\d", f.aliases["ws"]), where


def test_names_and_aliases_are_unambiguous_within_a_data_set(spec):
    for ds in spec.datasets.values():
        seen: dict[str, str] = {}
        for f in ds:
            for label in {f.key, f.name, *f.aliases.values()}:
                assert seen.setdefault(label, f.key) == f.key, (ds.code, label, seen[label], f.key)
        for f in ds:  # lookups by Chinese name and by each alias land on the field
            assert ds.field(f.name) is f
            for a in f.aliases.values():
                assert ds.field(a) is f


@pytest.mark.parametrize(
    "code, key",
    [
        ("unit", ("organID",)),
        ("dept", ("organID", "subjectCode", "deptID")),
        ("doctor", ("organID", "doctorCertID")),
        ("consult", ("organID", "bussID")),
        ("revisit", ("organID", "bussID")),
        ("emr", ("organID", "caseNo")),
        ("recipe", ("organID", "recipeID")),
        ("recipe_audit", ("organID", "recipeCode", "auditTime")),
        ("dispensing", ("organID", "recipeID", "verificationTime")),
        ("settlement", ("organID", "settleID")),
        ("evaluation", ("organID", "evaluateID")),
        ("complaint", ("organID", "eventID")),
    ],
)
def test_dedup_keys_follow_the_research(spec, code, key):
    ds = spec.dataset(code)
    assert ds.key == key
    assert all(ds.fields[k].is_required for k in key)


def test_spellings_of_the_source_documents_are_kept(spec):
    f = spec.dataset("consult").field("onsultationAttribute")
    assert f.name == "咨询属性" and "缺字母" in f.description
    assert spec.dataset("complaint").field("Improvements").name == "改进措施"


def test_known_fields(spec):
    recipe = spec.dataset("recipe")
    assert recipe.field("处方号").key == "recipeID"
    assert recipe.field("CFH").key == "recipeID"
    assert recipe.fields["totalFee"].type == "decimal"
    assert (recipe.fields["totalFee"].total_digits, recipe.fields["totalFee"].precision) == (12, 2)
    assert recipe.fields["orderList"].item == "recipe_detail"
    assert recipe.fields["orderList"].min_items == 1
    assert recipe.fields["packetsNum"].required == "packets_if_herbal"
    assert recipe.fields["deliveryType"].code_set == "delivery-type"
    rv = spec.dataset("revisit")
    assert rv.field("HZXM").key == "patientName"
    assert rv.field("DE02.01.039.00").key == "patientName"
    assert rv.field("DE02.01.030.00").key == "patientCertID"
    assert rv.fields["guardianName"].required == "guardian_if_under_6"
    assert rv.fields["mobile"].pattern == r"^1[3-9]\d{9}$"
    assert spec.dataset("unit").fields["postcode"].pattern == r"^\d{6}$"
    doc = spec.dataset("doctor")
    assert doc.field("出生日期").aliases["ws"] == "DE02.01.005.01"
    assert doc.field("性别").aliases["ws"] == "DE02.01.040.00"
    detail = spec.dataset("recipe_detail")
    assert detail.fields["admission"].code_set == "route"
    assert (detail.fields["price"].total_digits, detail.fields["price"].precision) == (12, 4)


def test_every_json_schema_is_valid_draft_2020_12(spec):
    for ds in spec.datasets.values():
        schema = ds.json_schema()
        jsonschema.Draft202012Validator.check_schema(schema)
        assert set(schema["required"]) == {f.key for f in ds if f.is_required}
    recipe = spec.dataset("recipe").json_schema()
    assert recipe["properties"]["recipeID"]["maxLength"] == 64
    assert recipe["properties"]["deliveryType"]["enum"] == ["0", "1", "2", "3", "4"]
    assert "packetsNum" not in recipe["required"]  # conditional: a rule, not "required"
    items = recipe["properties"]["orderList"]["items"]
    assert items["properties"]["admission"]["enum"][:5] == ["1", "2", "3", "4", "401"]
    # an incomplete code set (ICD-10 extract) is not an enum: unknown codes are allowed
    assert "enum" not in recipe["properties"]["icdCode"]
    sat = spec.dataset("evaluation").json_schema()["properties"]["satisfaction"]
    assert sat["type"] == "integer" and sat["enum"] == [1, 2, 3, 4, 5]


# ------------------------------------------------------------------------------- code sets


@pytest.mark.parametrize(
    "cs_id, size, known",
    [
        ("sex", 4, {"0": "未知的性别", "1": "男性", "2": "女性", "9": "未说明的性别"}),
        ("cert-type", 8, {"01": "居民身份证", "03": "护照", "99": "其他法定有效证件"}),
        (
            "subject",
            178,
            {
                "01": "预防保健科",
                "03.01": "呼吸内科专业",
                "04.01.01": "肝脏移植项目",
                "04.06.01": "心脏移植项目",
                "07.01": "新生儿专业",
                "28": "重症医学科",
                "32.10": "放射治疗专业",
                "50.01": "内科专业",
                "50.18": "其他",
                "69": "其他业务科室",
                "90": "药学专业",
                "91": "护理专业",
            },
        ),
        ("dept-category", 37, {"03": "内科", "50": "中医科"}),
        ("title", 20, {"231": "主任医师", "235": "医士", "243": "主管药师", "255": "护士", "265": "技士"}),
        (
            "route",
            24,
            {"1": "口服", "404": "静脉注射或静脉滴注", "607": "滴眼", "699": "其他局部用药途径", "9": "其他用药途径"},
        ),
        ("nation", 58, {"01": "汉族", "05": "维吾尔族", "56": "基诺族", "97": "其他", "98": "外国血统中国籍人士"}),
        ("yes-no", 2, {"0": "否", "1": "是"}),
        ("business-type", 10, {"1": "图文咨询", "4": "在线复诊", "5": "在线处方", "10": "住院预约"}),
        ("recipe-type", 3, {"1": "西药", "3": "中药饮片"}),
        ("delivery-type", 5, {"0": "医院取药", "1": "物流配送", "2": "药店取药"}),
        ("audit-status", 2, {"1": "审核通过", "2": "审核不通过"}),
        ("satisfaction", 5, {"1": "非常不满意", "5": "非常满意"}),
        ("cost-type", 2, {"1": "自费", "2": "医保"}),
        ("doctor-work-type", 3, {"1": "医师", "2": "药师", "3": "护师"}),
    ],
)
def test_code_set_sizes_and_known_codes(spec, cs_id, size, known):
    cs = spec.code_sets[cs_id]
    assert len(cs) == size
    for code, name in known.items():
        assert cs.name_of(code) == name, code


@pytest.mark.parametrize(
    "cs_id, n_min, known",
    [
        ("icd10", 150, {"J06.900": "急性上呼吸道感染", "I10.x00": "原发性高血压", "E11.900": "2型糖尿病"}),
        ("frequency", 15, {"qd": "每日一次", "bid": "每日两次", "tid": "每日三次", "prn": "必要时"}),
        ("dosage-form", 20, {"01": "片剂", "02": "胶囊剂"}),
        ("drug-class", 20, {"01": "抗感染药物", "010101": "青霉素类", "18": "中成药"}),
        ("controlled-drugs", 40, {"MZ001": "吗啡", "JS1001": "氯胺酮", "JS2001": "地西泮"}),
    ],
)
def test_partial_code_sets_say_so(spec, cs_id, n_min, known):
    cs = spec.code_sets[cs_id]
    assert cs.complete is False
    assert len(cs) >= n_min
    for code, name in known.items():
        assert cs.name_of(code) == name


def test_code_sets_are_found_by_standard_code(spec):
    assert spec.code_set("GB/T 2261.1").id == "sex"
    assert spec.code_set("CV02.01.101").id == "cert-type"
    assert spec.code_set("CV06.00.102").id == "route"
    assert spec.code_set("GB/T 3304").id == "nation"
    assert spec.code_set("CT09.00.001").id == "yes-no"
    assert spec.code_set("ICD-10").id == "icd10"


def test_every_code_set_has_standard_and_provenance_and_a_clean_csv(spec):
    for cs in spec.code_sets.values():
        assert cs.standard and cs.name, cs.id
        assert cs.provenance and set(cs.provenance.split(",")) <= PROVENANCE_TAGS, cs.id
        for code, name in cs.codes.items():
            assert code == code.strip() and name and name == name.strip(), (cs.id, code)
        with open(SPEC_DIR / "codesets" / cs.file, encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        assert header[:2] == ["code", "name"]
        assert set(header[2:]) <= {"parent", "note"}
    assert "1" in spec.code_sets["cert-type"].notes["01"]  # the TJ/ngari "1" variant is documented


def test_hierarchies_point_at_existing_parents(spec):
    for cs_id in ("subject", "route", "drug-class"):
        cs = spec.code_sets[cs_id]
        assert cs.parents
        for code, parent in cs.parents.items():
            assert parent in cs.codes and code.startswith(parent), (cs_id, code)
    subject = spec.code_sets["subject"]
    tops = {c for c in subject.codes if c not in subject.parents}
    assert tops == set(spec.code_sets["dept-category"].codes)


def test_controlled_drugs_carry_their_class(spec):
    cs = spec.code_sets["controlled-drugs"]
    classes = {cs.notes[c] for c in cs.codes}
    assert classes == {"麻醉药品", "第一类精神药品", "第二类精神药品"}
    names = set(cs.codes.values())
    assert {
        "吗啡",
        "芬太尼",
        "哌替啶",
        "可待因",
        "羟考酮",
        "美沙酮",
        "氯胺酮",
        "地西泮",
        "艾司唑仑",
        "阿普唑仑",
        "咪达唑仑",
        "唑吡坦",
        "曲马多",
    } <= names


def test_every_code_set_named_by_a_field_exists_and_every_code_set_is_used_or_a_rule_list(spec):
    used = set()
    for ds in spec.datasets.values():
        for f in ds:
            if f.code_set:
                assert f.code_set in spec.code_sets, (ds.code, f.key)
                used.add(f.code_set)
        for r in ds.rules:
            if "code_set" in r.params:
                assert r.params["code_set"] in spec.code_sets
                used.add(r.params["code_set"])
    assert set(spec.code_sets) - used <= {"drug-class"}  # drug-class: for the drug catalogue


# ------------------------------------------------------------------------- rules, references


def _rule_fields(ds, rule):
    p = rule.params
    out = []
    for k, v in p.items():
        if k in FIELD_PARAMS:
            out.append(v)
        elif k in FIELD_LIST_PARAMS:
            out.extend(v)
        elif k == "when":
            out.append(v["field"])
    return out


def test_every_rule_is_a_registered_design_rule_with_valid_params(spec):
    for ds in spec.datasets.values():
        for r in ds.rules:
            where = f"{ds.code}: {r.id} {dict(r.params)}"
            assert r.id in DESIGN_RECORD_RULES, where
            reg = RULES[r.id]
            assert set(r.params) <= set(reg.params), where
            assert set(reg.required_params) <= set(r.params), where
            assert r.severity in ("error", "warning")
            for f in _rule_fields(ds, r):
                assert f in ds.fields, where
            if r.id == "sum_of_lines":
                child = spec.dataset(ds.fields[r.params["items"]].item)
                assert r.params["item_field"] in child.fields
            if r.id == "no_controlled_drugs":
                child = spec.dataset(ds.fields[r.params["items"]].item)
                assert r.params["name_field"] in child.fields
            if r.id == "required_if":
                assert r.params["when"]["op"] in {"eq", "ne", "in", "lt", "le", "gt", "ge"}


def test_conditional_fields_name_their_rule(spec):
    for ds in spec.datasets.values():
        names = {r.name: r for r in ds.rules if r.name}
        for f in ds:
            if f.is_conditional:
                rule = names[f.required]
                assert rule.id == "required_if" and f.key in rule.params["fields"], (ds.code, f.key)
        for r in names.values():  # and every named rule is used by its fields
            assert all(ds.fields[k].required == r.name for k in r.params["fields"]), (ds.code, r.name)


def _rules(spec, code, rule_id):
    return [r for r in spec.dataset(code).rules if r.id == rule_id]


def test_mandatory_checks_of_the_research_are_there(spec):
    ids = {(c, r.params["number"]) for c in CORE for r in _rules(spec, c, "id_number")}
    assert {
        ("doctor", "doctorCertID"),
        ("consult", "patientCertID"),
        ("revisit", "patientCertID"),
        ("revisit", "guardianCertID"),
        ("recipe", "patientCertID"),
        ("recipe", "auditDoctorCertID"),
        ("emr", "patientIdcardNum"),
        ("dept", "principalDoctorCertID"),
        ("recipe_audit", "auditDoctorIdCard"),
    } <= ids
    # every field of 身份证 type is checked
    for code in CORE:
        ds = spec.dataset(code)
        checked = {r.params["number"] for r in ds.rules if r.id == "id_number"}
        for f in ds:
            if f.key.endswith(("CertID", "IdCard", "IdcardNum")):
                assert f.key in checked, (code, f.key)
    assert _rules(spec, "unit", "equals")[0].params == {"field": "internetPermit", "value": "1"}
    assert _rules(spec, "revisit", "revisit_only")[0].params["flag"] == "referralFlag"
    assert _rules(spec, "recipe", "different_persons")[0].params["fields"] == ["doctorCertID", "auditDoctorCertID"]
    assert _rules(spec, "recipe", "no_controlled_drugs")[0].severity == "error"
    s = _rules(spec, "settlement", "sum_of_fields")[0].params
    assert (s["total"], s["parts"]) == ("totalFee", ["selfPay", "insurancePay"])
    conds = {(c, r.name): r.params["when"] for c in CORE for r in _rules(spec, c, "required_if")}
    assert conds[("revisit", "guardian_if_under_6")] == {"field": "age", "op": "lt", "value": 6}
    assert conds[("recipe", "packets_if_herbal")] == {"field": "recipeType", "op": "eq", "value": "3"}
    assert conds[("consult", "refuse_if_not_answered")]["value"] == "0"
    assert conds[("dispensing", "logistics_if_delivered")]["value"] == "1"
    assert conds[("recipe_audit", "opinion_if_rejected")]["value"] == "2"
    assert conds[("settlement", "refund_if_flagged")]["field"] == "refundFlag"
    matches = {(c, r.params["code"]) for c in CORE for r in _rules(spec, c, "code_name_match")}
    assert {
        ("dept", "subjectCode"),
        ("doctor", "doctorTileID"),
        ("recipe", "icdCode"),
        ("recipe", "subjectCode"),
    } <= matches


def test_every_reference_names_an_existing_data_set_and_its_key_field(spec):
    order = {d.code: i for i, d in enumerate(spec.top_level())}
    for ds in spec.datasets.values():
        for ref in ds.references:
            for local, target_field in ref.fields.items():
                assert local in ds.fields
                for target in ref.datasets:
                    tds = spec.dataset(target)
                    assert target_field in tds.key, (ds.code, target, target_field)
            for target in ref.datasets:  # referenced data sets are uploaded first
                assert order[target] < order[ds.code], (ds.code, target)


@pytest.mark.parametrize(
    "code, local, targets",
    [
        ("recipe", "bussID", ("revisit", "consult")),
        ("emr", "furtherConsultNo", ("revisit",)),
        ("recipe_audit", "recipeCode", ("recipe",)),
        ("dispensing", "recipeID", ("recipe",)),
        ("settlement", "bussID", ("revisit", "consult")),
        ("evaluation", "bussID", ("consult", "revisit")),
        ("recipe", "doctorCertID", ("doctor",)),
        ("recipe", "auditDoctorCertID", ("doctor",)),
        ("consult", "doctorCertID", ("doctor",)),
        ("revisit", "doctorCertID", ("doctor",)),
    ],
)
def test_references_of_the_research(spec, code, local, targets):
    refs = [r for r in spec.dataset(code).references if local in r.fields]
    assert refs and refs[0].datasets == targets


def test_the_overview_document_covers_every_data_set_and_code_set(spec):
    doc = (Path(__file__).parents[1] / "docs" / "reference-spec.md").read_text(encoding="utf-8")
    assert "不是北京市官方文档" in doc and "依据公开资料推断" in doc
    for ds in spec.datasets.values():
        assert f"`{ds.code}`" in doc, ds.code
    for cs in spec.code_sets.values():
        assert f"`{cs.id}`" in doc, cs.id
    for tag in PROVENANCE_TAGS:
        assert f"| {tag} |" in doc
