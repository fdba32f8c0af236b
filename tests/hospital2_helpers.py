"""A second synthetic hospital (not the demo): one export of online revisits (在线复诊) with
pinyin-initial column names the way a different HIS vendor writes them, no master data.

``revisit_export(n, seed)`` returns the DataFrame; ``TRUTH`` is the reviewed mapping a person
would write (field → column), ``OPEN`` the fields a person would leave open because the export
has no column for them, ``BUSINESS_TIME`` the column giving the business day.
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd

ORGAN_ID = "12110000MB0T12345N"

TRUTH = {
    "organID": "JGBM",
    "organName": "JGMC",
    "bussID": "JZLSH",
    "deptID": "KSBM",
    "deptName": "KSMC",
    "subjectCode": "ZLKMDM",
    "subjectName": "ZLKMMC",
    "doctorId": "YSGH",
    "doctorCertID": "YSSFZH",
    "doctorName": "YSXM",
    "patientCertType": "ZJLX",
    "patientCertID": "ZJHM",
    "patientName": "HZXM",
    "age": "NL",
    "sex": "XB",
    "mobile": "LXDH",
    "guardianName": "JHRXM",
    "guardianCertID": "JHRZJHM",
    "cardNo": "JZKH",
    "originalDiagnosis": "SCZD",
    "mainDiagnoseCode": "ZDBM",
    "thisDiagnosis": "ZDMC",
    "diseasesHistory": "JYBS",
    "applyDate": "SQSJ",
    "startDate": "JZSJ",
    "endDate": "JSSJ",
    "returnVisitPrice": "FZFY",
    "updateTime": "GXSJ",
    "answerFlag": "SFHF",
    "referralFlag": "FZSM",
}
# no column in the export: a person leaves these open (never a guess from another person's column)
OPEN = ("guardianMobile", "cardType", "unitID", "processDataURL", "firstDiagnosis")
BUSINESS_TIME = "SQSJ"

# the same export as other vendors name it: Chinese headers, English snake_case
LAYOUTS = {
    "pinyin": {},
    "chinese": {
        "JZLSH": "就诊流水号",
        "JGBM": "机构编码",
        "JGMC": "机构名称",
        "KSBM": "科室编码",
        "KSMC": "科室名称",
        "ZLKMDM": "诊疗科目代码",
        "ZLKMMC": "诊疗科目名称",
        "YSGH": "医生工号",
        "YSSFZH": "医生身份证号",
        "YSXM": "医生姓名",
        "ZJLX": "证件类型",
        "ZJHM": "证件号码",
        "HZXM": "患者姓名",
        "NL": "年龄",
        "XB": "性别",
        "LXDH": "联系电话",
        "JHRXM": "监护人姓名",
        "JHRZJHM": "监护人证件号码",
        "JZKH": "就诊卡号",
        "SCZD": "上次诊断",
        "ZDBM": "诊断编码",
        "ZDMC": "诊断名称",
        "JYBS": "简要病史",
        "SQSJ": "申请时间",
        "JZSJ": "接诊时间",
        "JSSJ": "结束时间",
        "FZFY": "复诊费用",
        "GXSJ": "更新时间",
        "SFHF": "是否回复",
        "FZSM": "复诊声明",
        "BZ": "备注",
    },
    "english": {
        "JZLSH": "visit_serial_no",
        "JGBM": "org_code",
        "JGMC": "org_name",
        "KSBM": "dept_code",
        "KSMC": "dept_name",
        "ZLKMDM": "subject_code",
        "ZLKMMC": "subject_name",
        "YSGH": "doctor_code",
        "YSSFZH": "doctor_id_no",
        "YSXM": "doctor_name",
        "ZJLX": "id_type",
        "ZJHM": "id_no",
        "HZXM": "patient_name",
        "NL": "age",
        "XB": "gender",
        "LXDH": "phone",
        "JHRXM": "guardian_name",
        "JHRZJHM": "guardian_id_no",
        "JZKH": "card_no",
        "SCZD": "last_diagnosis",
        "ZDBM": "icd_code",
        "ZDMC": "diag_name",
        "JYBS": "history",
        "SQSJ": "apply_time",
        "JZSJ": "start_time",
        "JSSJ": "end_time",
        "FZFY": "fee",
        "GXSJ": "update_time",
        "SFHF": "answered",
        "FZSM": "revisit_declared",
        "BZ": "remark",
    },
}

_SURNAMES = "王李张刘陈杨赵黄周吴"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
_DEPTS = [("NK01", "内科门诊", "03", "内科"), ("EK02", "儿科门诊", "07", "儿科"), ("PF03", "皮肤科", "13", "皮肤科")]
_DOCTORS = [("D0101", "110102197504180312", "测试刘建国"), ("D0102", "110106198309250629", "测试陈静")]
_DIAG = [("J06.900", "急性上呼吸道感染"), ("I10.x00", "高血压"), ("E11.900", "2型糖尿病")]


def _id_number(rng: random.Random, birth: dt.date, female: bool) -> str:
    body = f"110101{birth:%Y%m%d}{rng.randint(10, 99)}{rng.choice('02468' if female else '13579')}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
    return body + check


def revisit_export(
    n: int = 60, seed: int = 14, day: dt.date = dt.date(2026, 11, 2), *, children: bool = True
) -> pd.DataFrame:
    """``n`` revisits spread over ``day`` and the two days before it, as text (an export).  With
    ``children`` some patients are under 6 (their guardian is named, but the export has no guardian
    phone: the platform's 监护人 rule holds them back)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        female = rng.random() < 0.5
        birth = dt.date(rng.randint(1950, 2024 if children else 2018), rng.randint(1, 12), rng.randint(1, 28))
        child = (day - birth).days < 6 * 365
        apply = dt.datetime.combine(day - dt.timedelta(days=i % 3), dt.time(8)) + dt.timedelta(minutes=7 * i)
        dept = _DEPTS[i % len(_DEPTS)]
        doc = _DOCTORS[i % len(_DOCTORS)]
        diag = _DIAG[i % len(_DIAG)]
        rows.append(
            {
                "JZLSH": f"MZ{apply:%Y%m%d}{i:05d}",
                "JGBM": ORGAN_ID,
                "JGMC": "北京市测试互联网医院",
                "KSBM": dept[0],
                "KSMC": dept[1],
                "ZLKMDM": dept[2],
                "ZLKMMC": dept[3],
                "YSGH": doc[0],
                "YSSFZH": doc[1],
                "YSXM": doc[2],
                "ZJLX": "1",  # the HIS writes 1 where the code list has 01
                "ZJHM": _id_number(rng, birth, female),
                "HZXM": rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN),
                "NL": str((day - birth).days // 365),
                "XB": "女" if female else "男",
                "LXDH": f"139{rng.randint(10_000_000, 99_999_999)}",
                "JHRXM": ("测试" + rng.choice(_GIVEN)) if child else "",
                "JHRZJHM": _id_number(rng, dt.date(1988, 3, 3), True) if child else "",
                "JZKH": f"K{rng.randint(100000, 999999)}",
                "SCZD": diag[1],
                "ZDBM": diag[0],
                "ZDMC": diag[1],
                "JYBS": "慢性病复诊，病情稳定",
                "SQSJ": f"{apply:%Y-%m-%d %H:%M:%S}",
                "JZSJ": f"{apply + dt.timedelta(minutes=5):%Y-%m-%d %H:%M:%S}",
                "JSSJ": f"{apply + dt.timedelta(minutes=20):%Y-%m-%d %H:%M:%S}",
                "FZFY": f"{rng.choice([10, 20, 30])}.00",
                "GXSJ": f"{apply + dt.timedelta(minutes=30):%Y-%m-%d %H:%M:%S}",
                "SFHF": "是",
                "FZSM": "是",
                "BZ": "",
            }
        )
    return pd.DataFrame(rows)


def master_records() -> dict[str, list[dict]]:
    """The hospital's own master data (机构、科室、人员备案) as its staff would type it into the
    template: the institution, its departments and the two doctors of the export (the reference
    spec's example records, which describe this synthetic hospital)."""
    import json
    from pathlib import Path

    examples = Path(__file__).parents[1] / "lib" / "hlwjr" / "specs" / "beijing-reference" / "examples"
    load = lambda code: json.loads((examples / f"{code}.json").read_text(encoding="utf-8"))
    doctors = {d[1] for d in _DOCTORS}
    return {
        "unit": load("unit")[:1],
        "dept": load("dept"),
        "doctor": [d for d in load("doctor") if d["doctorCertID"] in doctors],
    }
