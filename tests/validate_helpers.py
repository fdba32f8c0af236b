"""Valid records of the validation test spec (tests/data/validate_spec); tests break one thing each."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import hlwjr
from hlwjr._privacy import id_check_char

SPEC_DIR = Path(__file__).parent / "data" / "validate_spec"
TODAY = dt.date(2026, 11, 25)
ORG = "91110000123456789X"


def make_id(body17: str) -> str:
    return body17 + id_check_char(body17)


DOCTOR_ID = make_id("11010119800101001")  # male, born 1980-01-01
PHARMACIST_ID = make_id("11010119850505002")  # female, born 1985-05-05
PATIENT_ID = make_id("11010120200601003")  # male, born 2020-06-01
ADULT_ID = make_id("11010519700315004")  # female, born 1970-03-15


def spec():
    return hlwjr.load_spec(SPEC_DIR)


def doctor(**changes):
    r = {
        "organID": ORG,
        "doctorCertID": DOCTOR_ID,
        "doctorName": "张三",
        "sex": "1",
        "birthday": "1980-01-01",
        "mobile": "13812345678",
        "subjectCode": "03.01",
        "subjectName": "呼吸内科专业",
        "doctorYears": 10,
    }
    return _apply(r, changes)


def pharmacist(**changes):
    return doctor(doctorCertID=PHARMACIST_ID, doctorName="李四", sex="2", birthday="1985-05-05", **changes)


def revisit(**changes):
    r = {
        "organID": ORG,
        "bussID": "FZ001",
        "doctorCertID": DOCTOR_ID,
        "patientCertType": "01",
        "patientCertID": ADULT_ID,
        "patientName": "王小红",
        "mobile": "13900001111",
        "age": 56,
        "sex": "2",
        "referralFlag": "1",
        "originalDiagnosis": "高血压",
        "applyDate": "2026-11-01 08:00:00",
        "startDate": "2026-11-01 09:00:00",
        "endDate": "2026-11-01 09:30:00",
        "answerFlag": "1",
        "returnVisitPrice": 25.5,
        "source": "HIS",
    }
    return _apply(r, changes)


def line(n=1, **changes):
    r = {
        "lineNo": n,
        "drcode": f"YP{n:03d}",
        "drname": "阿莫西林胶囊",
        "dosage": "0.5g",
        "useDays": 3,
        "totalPrice": 10.0,
    }
    return _apply(r, changes)


def recipe(**changes):
    r = {
        "organID": ORG,
        "recipeID": "CF001",
        "bussID": "FZ001",
        "doctorCertID": DOCTOR_ID,
        "auditDoctorCertID": PHARMACIST_ID,
        "recipeType": "1",
        "icdCode": "I10.x00",
        "icdName": "高血压",
        "datein": "2026-11-01 09:20:00",
        "checkDate": "2026-11-01 09:25:00",
        "totalFee": 30.0,
        "orderList": [line(1), line(2, drname="布洛芬缓释胶囊", totalPrice=20.0)],
    }
    return _apply(r, changes)


def settlement(**changes):
    r = {
        "organID": ORG,
        "settleID": "JS001",
        "totalFee": 100.0,
        "selfPay": 60.0,
        "insurancePay": 40.0,
        "payTime": "2026-11-01 09:40:00",
    }
    return _apply(r, changes)


def batch(**changes):
    """A consistent batch of every data set, as check() takes it."""
    b = {"doctor": [doctor(), pharmacist()], "revisit": [revisit()], "recipe": [recipe()], "settlement": [settlement()]}
    b.update(changes)
    return b


def _apply(record, changes):
    record = copy.deepcopy(record)
    for k, v in changes.items():
        if v is DROP:
            record.pop(k, None)
        else:
            record[k] = v
    return record


class _Drop:
    def __repr__(self):
        return "DROP"


DROP = _Drop()


def problems(records, dataset=None, **kw):
    """(rule, field) pairs of check() on the records, with today pinned."""
    kw.setdefault("today", TODAY)
    report = hlwjr.check(records, dataset, spec=spec(), **kw)
    return {(p.rule, p.field) for p in report.problems}, report
