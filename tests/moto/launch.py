"""moto_server with five CloudFormation gaps closed, for the deploy tests.

Run with the venv's python in place of moto_server, same arguments (-H 127.0.0.1 -p PORT).
The flagship's template is deployed unchanged; the emulator is patched instead:


- AWS::StepFunctions::StateMachine: moto stores DefinitionString as written, ignoring
  DefinitionSubstitutions, where CloudFormation replaces each ${Name} first.
- AWS::KMS::Key: moto hands CloudFormation's Tags (Key/Value) to create_key, which expects
  the KMS API's TagKey/TagValue, and the stack dies with KeyError: 'TagKey'.
- AWS::CloudWatch::Alarm and AWS::SageMaker::Pipeline: moto's CloudFormation has no model
  for them and silently skips them; these create them through moto's own backends, so
  DescribeAlarms and DescribePipeline see what the stack deployed.
- AWS::Scheduler::Schedule: no model either; this one creates the schedule through moto's
  EventBridge Scheduler backend, so ListSchedules sees the monitoring's schedules.
- Outputs: executing a change set updates the stack's resources but keeps the outputs of the
  template the stack was made with, so DescribeStacks lists none after a first apply
  (`mlopsc output` reads them).

moto builds its model map from CloudFormationModel.__subclasses__() on first use, so the
classes below must be defined before the server handles a request.
"""

import sys

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudformation.models import ChangeSet
from moto.cloudformation.parsing import OutputMap
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.kms.models import Key
from moto.sagemaker.models import sagemaker_backends
from moto.scheduler.models import scheduler_backends
from moto.server import main
from moto.stepfunctions.models import StateMachine

_create_key = Key.create_from_cloudformation_json.__func__


def _create_key_with_cfn_tags(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json["Properties"]
    tags = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])]
    fixed = {**cloudformation_json, "Properties": {**properties, "Tags": tags}}
    return _create_key(cls, resource_name, fixed, account_id, region_name, **kwargs)


Key.create_from_cloudformation_json = classmethod(_create_key_with_cfn_tags)


def _substituted(cloudformation_json):
    properties = dict(cloudformation_json.get("Properties", {}))
    definition = properties.get("DefinitionString")
    for name, value in properties.pop("DefinitionSubstitutions", {}).items():
        if definition is not None:
            definition = definition.replace("${" + name + "}", str(value))
    if definition is not None:
        properties["DefinitionString"] = definition
    return {**cloudformation_json, "Properties": properties}


_create_machine = StateMachine.create_from_cloudformation_json.__func__
_update_machine = StateMachine.update_from_cloudformation_json.__func__


def _create_machine_substituted(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    return _create_machine(cls, resource_name, _substituted(cloudformation_json), account_id, region_name, **kwargs)


def _update_machine_substituted(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    return _update_machine(cls, original_resource, new_resource_name, _substituted(cloudformation_json), account_id, region_name)


StateMachine.create_from_cloudformation_json = classmethod(_create_machine_substituted)
StateMachine.update_from_cloudformation_json = classmethod(_update_machine_substituted)


class _Replaced:
    """A resource CloudFormation updates by deleting and creating it again, named by its
    name property (as moto's own Dashboard model does). A mixin: moto finds models only
    among CloudFormationModel's direct subclasses."""

    def __init__(self, name, arn):
        self.name = name
        self.arn = arn

    @property
    def physical_resource_id(self):
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "Arn":
            return self.arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)


def metric_query(query):
    """One of a metric-math alarm's `Metrics`, as moto's PutMetricAlarm would store it."""
    stat = query.get("MetricStat")
    metric_stat = None
    if stat:
        metric = stat["Metric"]
        metric_stat = MetricStat(
            metric=Metric(
                metric_name=metric["MetricName"],
                namespace=metric["Namespace"],
                dimensions=[Dimension(name=d["Name"], value=d["Value"]) for d in metric.get("Dimensions", [])],
            ),
            period=stat["Period"],
            stat=stat["Stat"],
            unit=stat.get("Unit"),
        )
    return MetricDataQuery(
        query_id=query["Id"],
        label=query.get("Label"),
        period=query.get("Period"),
        return_data=query.get("ReturnData"),
        expression=query.get("Expression"),
        metric_stat=metric_stat,
    )


class CfnAlarm(_Replaced, CloudFormationModel):
    __module__ = "moto.cloudwatch.models"  # moto files models by the service in their module

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudWatch::Alarm"

    @staticmethod
    def cloudformation_name_type():
        return "AlarmName"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=resource_name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]),
            period=int(p.get("Period", 60)),
            threshold=float(p.get("Threshold", 0)),
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=p.get("Dimensions", []),
            alarm_actions=p.get("AlarmActions", []),
            ok_actions=p.get("OKActions"),
            insufficient_data_actions=p.get("InsufficientDataActions"),
            treat_missing_data=p.get("TreatMissingData"),
            metric_data_queries=[metric_query(q) for q in p.get("Metrics", [])] or None,
        )
        return cls(resource_name, alarm.alarm_arn)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])


class CfnPipeline(_Replaced, CloudFormationModel):
    __module__ = "moto.sagemaker.models"

    @staticmethod
    def cloudformation_type():
        return "AWS::SageMaker::Pipeline"

    @staticmethod
    def cloudformation_name_type():
        return "PipelineName"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        definition = p["PipelineDefinition"]
        pipeline = sagemaker_backends[account_id][region_name].create_pipeline(
            pipeline_name=resource_name,
            pipeline_display_name=p.get("PipelineDisplayName"),
            pipeline_definition=definition.get("PipelineDefinitionBody"),
            pipeline_definition_s3_location=definition.get("PipelineDefinitionS3Location"),
            pipeline_description=p.get("PipelineDescription"),
            role_arn=p["RoleArn"],
            tags=p.get("Tags", []),
            parallelism_configuration=p.get("ParallelismConfiguration"),
        )
        return cls(resource_name, pipeline.arn)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        sagemaker_backends[account_id][region_name].delete_pipeline(resource_name)


class CfnSchedule(_Replaced, CloudFormationModel):
    __module__ = "moto.scheduler.models"

    @staticmethod
    def cloudformation_type():
        return "AWS::Scheduler::Schedule"

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        schedule = scheduler_backends[account_id][region_name].create_schedule(
            description=p.get("Description"),
            end_date=p.get("EndDate"),
            flexible_time_window=p["FlexibleTimeWindow"],
            group_name=p.get("GroupName"),
            kms_key_arn=p.get("KmsKeyArn"),
            name=resource_name,
            schedule_expression=p["ScheduleExpression"],
            schedule_expression_timezone=p.get("ScheduleExpressionTimezone"),
            start_date=p.get("StartDate"),
            state=p.get("State"),
            target=p["Target"],
            action_after_completion=None,
        )
        return cls(resource_name, schedule.arn)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        scheduler_backends[account_id][region_name].delete_schedule(None, resource_name)


_apply_change_set = ChangeSet.apply


def _apply_change_set_with_outputs(self):
    """CloudFormation's outputs are the executed template's, as its resources are."""
    _apply_change_set(self)
    self.stack.output_map = OutputMap(self.stack.resource_map, self.template_dict, self.stack_id)


ChangeSet.apply = _apply_change_set_with_outputs


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
