// Executes generated/<project>/deploy.asl.json with aws-local-stepfunctions, every Task
// mocked: an approved package updates the endpoint with the spec's blue/green DeploymentConfig,
// an absent endpoint is created, a refused update and a rollback delete the release, notify and fail, a package
// that is not approved is not deployed, and a package's drift baseline (with an image model's
// archive) is copied to the keys the monitoring reads.
//
//   ASL_DEFINITION=generated/skin-lesion/deploy.asl.json node --test tests/asl/deploy.test.mjs
//
// The expected DeploymentConfig is derived here from the example's mlops.yaml, not from the
// machine. aws-local-stepfunctions does not evaluate JSONata states; the harness does, with
// the jsonata package, for the copy states that use it.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const modules = new URL('../../.tools/npm/node_modules/', import.meta.url);
const { StateMachine } = await import(new URL('aws-local-stepfunctions/build/main.node.esm.js', modules).href);
const jsonata = (await import(new URL('jsonata/jsonata.js', modules).href)).default;
const YAML = (await import(new URL('yaml/dist/index.js', modules).href)).default;

const definitionPath = process.env.ASL_DEFINITION;
if (!definitionPath) {
  throw new Error('set ASL_DEFINITION to the deploy.asl.json to execute');
}
// generated/<project>/ names the project; an environment's generated/<project>/<env>/ (inside
// a directory with its own manifest) is `<project>-<env>`, its spec the base with the
// environment's overrides merged in (mappings key by key, anything else replaced).
const dir = path.dirname(path.resolve(definitionPath));
const parent = path.dirname(dir);
const environment = existsSync(path.join(parent, 'manifest.json')) ? path.basename(dir) : null;
const baseProject = environment ? path.basename(parent) : path.basename(dir);
const project = environment ? `${baseProject}-${environment}` : baseProject;
const root = new URL('../../', import.meta.url).pathname;
const base = readdirSync(path.join(root, 'examples'))
  .map((name) => YAML.parse(readFileSync(path.join(root, 'examples', name, 'mlops.yaml'), 'utf8')))
  .find((s) => s.project.name === baseProject);
assert.ok(base, `no example is the project ${baseProject}`);
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const merge = (into, over) =>
  isMap(into) && isMap(over)
    ? Object.fromEntries(
        [...new Set([...Object.keys(into), ...Object.keys(over)])].map((k) => [
          k,
          k in over ? merge(into[k], over[k]) : into[k],
        ]),
      )
    : over;
const spec = environment ? merge(base, base.environments[environment].overrides ?? {}) : base;
const endpointName = spec.deployment.endpointName;
const pipelineBucket = spec.storage.buckets.pipeline;

const account = '123456789012';
const topicArn = `arn:aws:sns:us-east-1:${account}:${project}-notifications`;
const keyArn = `arn:aws:kms:us-east-1:${account}:key/k-1`;
const endpointRoleArn = `arn:aws:iam::${account}:role/${project}-endpoint`;
// What CloudFormation's DefinitionSubstitutions does at deploy time.
const text = readFileSync(definitionPath, 'utf8')
  .replaceAll('${NotificationTopicArn}', topicArn)
  .replaceAll('${KmsKeyArn}', keyArn)
  .replaceAll('${EndpointRoleArn}', endpointRoleArn);
assert.ok(!text.includes('${'), 'a placeholder is left after substitution');
const definition = JSON.parse(text);

const packageArn = `arn:aws:sagemaker:us-east-1:${account}:model-package/${spec.registry.modelPackageGroup}/3`;
const executionId = `arn:aws:states:us-east-1:${account}:execution:${project}-deploy:run-1`;
const taskStates = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task').map(([n]) => n);
const waitStates = Object.entries(definition.States).filter(([, s]) => s.Type === 'Wait').map(([n]) => n);

/** The DeploymentConfig the spec's strategy asks for, in SageMaker's terms. */
function expectedDeploymentConfig() {
  const strategy = spec.deployment.strategy ?? { type: 'allAtOnce' };
  const routing = strategy.canary
    ? {
        Type: 'CANARY',
        WaitIntervalInSeconds: strategy.canary.waitSeconds,
        CanarySize: { Type: 'CAPACITY_PERCENT', Value: strategy.canary.percent },
      }
    : { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 };
  const config = {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: routing,
      TerminationWaitInSeconds: strategy.bakeSeconds ?? 0,
    },
  };
  if (strategy.rollbackAlarms?.length) {
    config.AutoRollbackConfiguration = {
      Alarms: strategy.rollbackAlarms.map((name) => ({ AlarmName: `${project}-${name}` })),
    };
  }
  return config;
}

function awsError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** `{% expr %}` strings of a JSONata state, evaluated with `$states` bound. */
async function evaluateJsonata(value, states) {
  if (typeof value === 'string') {
    const match = value.match(/^\{%(.*)%\}$/s);
    return match ? jsonata(match[1]).evaluate({}, { states }) : value;
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => evaluateJsonata(v, states)));
  if (value && typeof value === 'object') {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await evaluateJsonata(v, states)]),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * Runs the machine. `pkg` is DescribeModelPackage's answer; `existing` the statuses the
 * endpoint has when the machine looks for it, in turn (empty: it is absent, as SageMaker
 * says with a ValidationException); `statuses` the DescribeEndpoint answers after the create
 * or update (the last repeats), each `[status, config]` where config `'new'` is this
 * release's configuration; `update` an Error that UpdateEndpoint throws, or a list of them
 * thrown in turn before it succeeds; `lookup` an Error the first DescribeEndpoint throws;
 * `servingCount` the serving variant's current instance count; `previous` the name of the
 * configuration the endpoint serves; `retire` an Error the deletes of the old release throw.
 */
async function run({
  pkg = {},
  exists = true,
  existing = exists ? ['InService'] : [],
  statuses = [['Updating', 'old'], ['InService', 'new']],
  update,
  create,
  lookup,
  register,
  servingCount = spec.deployment.initialInstanceCount ?? 1,
  previous = `${project}-previous`,
  retire,
  serving = `arn:aws:sagemaker:us-east-1:${account}:model-package/${spec.registry.modelPackageGroup}/2`,
} = {}) {
  const calls = {};
  const record = (name, request) => {
    (calls[name] ??= []).push(request);
  };
  let release;
  let changed = false;
  const sagemaker = {
    DescribeModelPackage: async (request) => {
      record('DescribeModelPackage', request);
      return { ModelPackageArn: packageArn, ModelApprovalStatus: 'Approved', ...pkg };
    },
    CreateModel: async (request) => {
      record('CreateModel', request);
      release = request.ModelName;
      return { ModelArn: `arn:aws:sagemaker:us-east-1:${account}:model/${request.ModelName}` };
    },
    DescribeModel: async (request) => {
      record('DescribeModel', request);
      return { ModelName: request.ModelName, PrimaryContainer: { ModelPackageName: serving } };
    },
    CreateEndpointConfig: async (request) => {
      record('CreateEndpointConfig', request);
      return { EndpointConfigArn: 'arn:config' };
    },
    CreateEndpoint: async (request) => {
      record('CreateEndpoint', request);
      if (create) throw create;
      changed = true;
      return { EndpointArn: 'arn:endpoint' };
    },
    UpdateEndpoint: async (request) => {
      record('UpdateEndpoint', request);
      const refusal = Array.isArray(update) ? update[calls.UpdateEndpoint.length - 1] : update;
      if (refusal) throw refusal;
      changed = true;
      return { EndpointArn: 'arn:endpoint' };
    },
    DescribeEndpoint: async (request) => {
      if (!changed) {
        // The lookup before the create or update.
        record('FindEndpoint', request);
        const n = calls.FindEndpoint.length;
        if (lookup && n === 1) throw lookup;
        if (existing.length === 0) {
          throw awsError('SageMaker.SageMakerException', `Could not find endpoint "${request.EndpointName}". (Service: SageMaker, Status Code: 400, Error Code: ValidationException)`);
        }
        return {
          EndpointName: request.EndpointName,
          EndpointStatus: existing[Math.min(n - 1, existing.length - 1)],
          EndpointConfigName: previous,
          ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: servingCount }],
        };
      }
      record('DescribeEndpoint', request);
      const [status, config] = statuses[Math.min(calls.DescribeEndpoint.length - 1, statuses.length - 1)];
      return {
        EndpointName: request.EndpointName,
        EndpointStatus: status,
        EndpointConfigName: config === 'new' ? release : previous,
      };
    },
    DeleteEndpointConfig: async (request) => {
      record('DeleteEndpointConfig', request);
      if (retire) throw retire;
      return {};
    },
    DeleteModel: async (request) => {
      record('DeleteModel', request);
      if (retire) throw retire;
      return {};
    },
  };
  const s3 = {
    CopyObject: async (request) => {
      record('CopyObject', request);
      return { CopyObjectResult: { ETag: '"e"' } };
    },
  };
  const applicationautoscaling = {
    RegisterScalableTarget: async (request) => {
      record('RegisterScalableTarget', request);
      if (register) throw register;
      return { ScalableTargetARN: 'arn:target' };
    },
    PutScalingPolicy: async (request) => {
      record('PutScalingPolicy', request);
      return { PolicyARN: 'arn:policy', Alarms: [] };
    },
  };
  const handlers = {};
  for (const name of taskStates) {
    const state = definition.States[name];
    if (state.Resource === 'arn:aws:states:::sns:publish') {
      handlers[name] = async (request) => {
        record('Publish', request);
        return { MessageId: 'm' };
      };
      continue;
    }
    const [service, action] = state.Resource.split(':').slice(-2);
    const handler = { sagemaker, s3, applicationautoscaling }[service]?.[action.charAt(0).toUpperCase() + action.slice(1)];
    assert.ok(handler, `no mock for ${state.Resource}`);
    if (state.QueryLanguage === 'JSONata') {
      // The emulator passes the raw input and takes the result as the output: do what
      // Step Functions does with Arguments and Output.
      handlers[name] = async (input) => {
        const result = await handler(await evaluateJsonata(state.Arguments, { input }));
        return evaluateJsonata(state.Output, { input, result });
      };
    } else {
      handlers[name] = handler;
    }
  }
  const input = { ModelPackageArn: packageArn };
  const execution = new StateMachine(definition).run(input, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      waitTimeOverrides: Object.fromEntries(waitStates.map((n) => [n, 0])),
      retryIntervalOverrides: Object.fromEntries(taskStates.map((n) => [n, 0])),
    },
    context: {
      Execution: { Id: executionId, Name: 'run-1', Input: input, StartTime: '2026-01-01T00:00:00Z' },
      StateMachine: { Id: `arn:aws:states:us-east-1:${account}:stateMachine:${project}-deploy`, Name: `${project}-deploy` },
    },
  });
  try {
    return { status: 'SUCCEEDED', output: await execution.result, calls, release };
  } catch (error) {
    const failure = error.cause ?? error;
    return { status: 'FAILED', error: failure.name, cause: failure.message, calls, release };
  }
}

function assertOneNotification(calls, outcome) {
  assert.equal(calls.Publish?.length, 1, 'exactly one notification');
  assert.equal(calls.Publish[0].TopicArn, topicArn);
  assert.equal(calls.Publish[0].Subject, `${project} deployment ${outcome}`);
  return JSON.parse(calls.Publish[0].Message);
}

describe(`${project} deploy state machine`, () => {
  test("approved, endpoint there: a model from the package, the spec's blue/green update, success", async () => {
    const r = await run();
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(r.calls.DescribeModelPackage, [{ ModelPackageName: packageArn }]);
    const [model] = r.calls.CreateModel;
    assert.equal(model.PrimaryContainer.ModelPackageName, packageArn);
    assert.equal(model.ExecutionRoleArn, endpointRoleArn);
    assert.equal(model.EnableNetworkIsolation, true);
    assert.match(model.ModelName, /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
    const [config] = r.calls.CreateEndpointConfig;
    assert.equal(config.EndpointConfigName, model.ModelName);
    assert.equal(config.ProductionVariants[0].ModelName, model.ModelName);
    assert.equal(config.ProductionVariants[0].InstanceType, spec.deployment.instanceType);
    assert.equal(config.ProductionVariants[0].InitialInstanceCount, spec.deployment.initialInstanceCount ?? 1);
    if (spec.deployment.dataCapture) {
      assert.equal(config.DataCaptureConfig.InitialSamplingPercentage, spec.deployment.dataCapture.samplingPercent);
      assert.equal(config.DataCaptureConfig.KmsKeyId, keyArn);
    }
    assert.equal(r.calls.CreateEndpoint, undefined, 'an existing endpoint is updated, not created');
    assert.deepEqual(r.calls.UpdateEndpoint, [
      { EndpointName: endpointName, EndpointConfigName: model.ModelName, DeploymentConfig: expectedDeploymentConfig() },
    ]);
    assert.equal(r.calls.DescribeEndpoint.length, 2, 'polled until InService');
    // docs/deployment-guide.md: the machine owns the endpoint's autoscaling, registered again
    // with every release so an update keeps it.
    const scaling = spec.deployment.autoscaling;
    if (scaling) {
      const target = {
        ServiceNamespace: 'sagemaker',
        ResourceId: `endpoint/${endpointName}/variant/AllTraffic`,
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      };
      assert.deepEqual(r.calls.RegisterScalableTarget, [
        { ...target, MinCapacity: scaling.minInstances, MaxCapacity: scaling.maxInstances },
      ]);
      const [policy] = r.calls.PutScalingPolicy;
      assert.equal(policy.ResourceId, target.ResourceId);
      assert.equal(policy.PolicyType, 'TargetTrackingScaling');
      assert.equal(
        policy.TargetTrackingScalingPolicyConfiguration.TargetValue,
        scaling.targetInvocationsPerInstance,
      );
    } else {
      assert.equal(r.calls.RegisterScalableTarget, undefined, 'no autoscaling, none registered');
    }
    assert.equal(r.calls.CopyObject, undefined, 'no baseline, nothing copied');
    // The release it replaced goes once the new one serves.
    assert.deepEqual(r.calls.DeleteEndpointConfig, [{ EndpointConfigName: `${project}-previous` }]);
    assert.deepEqual(r.calls.DeleteModel, [{ ModelName: `${project}-previous` }]);
    const message = assertOneNotification(r.calls, 'succeeded');
    assert.equal(message.Endpoint.EndpointConfigName, model.ModelName);
    assert.equal(message.Error, undefined);
  });

  test('autoscaling grew the serving fleet: the green fleet starts as large', async () => {
    const grown = (spec.deployment.initialInstanceCount ?? 1) + 3;
    const r = await run({ servingCount: grown });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.equal(r.calls.CreateEndpointConfig[0].ProductionVariants[0].InitialInstanceCount, grown);
  });

  test('UpdateEndpoint throttled twice: tried again after a wait, then success', async () => {
    const throttled = awsError('SageMaker.SageMakerException', 'Rate exceeded (Service: SageMaker, Status Code: 400, Error Code: ThrottlingException)');
    const r = await run({ update: [throttled, throttled] });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.equal(r.calls.UpdateEndpoint.length, 3);
    const message = assertOneNotification(r.calls, 'succeeded');
    assert.equal(message.Error, undefined, 'a retried error is not reported as one');
    assert.equal(message.Transient.Attempts, 2);
  });

  test('UpdateEndpoint refused (ValidationException): not tried again, failure notification', async () => {
    const refused = 'Cannot update in-progress endpoint (Service: SageMaker, Status Code: 400, Error Code: ValidationException)';
    const r = await run({ update: awsError('SageMaker.SageMakerException', refused) });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.calls.UpdateEndpoint.length, 1);
    // The release it refused serves nothing: deleted before the failure is reported.
    assert.deepEqual(r.calls.DeleteEndpointConfig, [{ EndpointConfigName: r.release }]);
    assert.deepEqual(r.calls.DeleteModel, [{ ModelName: r.release }]);
    const message = assertOneNotification(r.calls, 'failed');
    assert.equal(message.Error.Cause, refused);
  });

  test('CreateEndpoint refused on the first deployment: the release is deleted, failure notification', async () => {
    const refused = 'Cannot create endpoint: the account limit for ml.g4dn.xlarge is 0 (Service: SageMaker, Status Code: 400, Error Code: ResourceLimitExceeded)';
    const r = await run({ exists: false, create: awsError('SageMaker.SageMakerException', refused) });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.calls.CreateEndpoint.length, 1);
    assert.deepEqual(r.calls.DeleteEndpointConfig, [{ EndpointConfigName: r.release }]);
    assert.deepEqual(r.calls.DeleteModel, [{ ModelName: r.release }]);
    const message = assertOneNotification(r.calls, 'failed');
    assert.equal(message.Error.Cause, refused);
  });

  test('throttling that never ends: the call and six retries, then failure', async () => {
    const throttled = awsError('SageMaker.SageMakerException', 'Rate exceeded (Service: SageMaker, Status Code: 400)');
    const r = await run({ update: Array(20).fill(throttled) });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.calls.UpdateEndpoint.length, 7);
    // The release that never served goes; the one still serving is not retired.
    assert.deepEqual(r.calls.DeleteModel, [{ ModelName: r.release }]);
    assertOneNotification(r.calls, 'failed');
  });

  test('the endpoint lookup is throttled once: it looks again', async () => {
    const r = await run({ lookup: awsError('SageMaker.SageMakerException', 'Rate exceeded (Service: SageMaker, Status Code: 400)') });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.equal(r.calls.FindEndpoint.length, 2);
    assert.equal(r.calls.UpdateEndpoint.length, 1);
  });

  test('a configuration mlopsc did not make is never deleted', async () => {
    const r = await run({ previous: 'hand-made-config' });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.equal(r.calls.UpdateEndpoint.length, 1);
    assert.equal(r.calls.DeleteEndpointConfig, undefined);
    assert.equal(r.calls.DeleteModel, undefined);
  });

  test('deleting the old release fails: the deployment still succeeds, and says so', async () => {
    const r = await run({ retire: awsError('SageMaker.SageMakerException', 'User is not authorized to perform: sagemaker:DeleteModel (Service: SageMaker, Status Code: 400)') });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const message = assertOneNotification(r.calls, 'succeeded');
    assert.match(message.Cleanup.Cause, /not authorized/);
  });

  test('the endpoint is absent: it is created from the new configuration', async () => {
    const r = await run({ exists: false, statuses: [['Creating', 'new'], ['InService', 'new']] });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.equal(r.calls.FindEndpoint.length, 1, 'not found is not retried');
    assert.deepEqual(r.calls.CreateEndpoint, [{ EndpointName: endpointName, EndpointConfigName: r.release }]);
    assert.equal(r.calls.UpdateEndpoint, undefined);
    assert.equal(r.calls.DeleteEndpointConfig, undefined, 'nothing served before, nothing to retire');
    assert.equal(r.calls.RegisterScalableTarget?.length ?? 0, spec.deployment.autoscaling ? 1 : 0);
    assertOneNotification(r.calls, 'succeeded');
  });

  test('another deployment is still updating the endpoint: wait for it, then update', async () => {
    const r = await run({ existing: ['Updating', 'Updating', 'InService'] });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.equal(r.calls.FindEndpoint.length, 3, 'looked again until the endpoint was idle');
    assert.equal(r.calls.UpdateEndpoint.length, 1, 'one update, once the other is done');
    assertOneNotification(r.calls, 'succeeded');
  });

  test('looking for the endpoint fails otherwise: failure notification, no create', async () => {
    const r = await run({ lookup: awsError('SageMaker.SageMakerException', 'User is not authorized to perform: sagemaker:DescribeEndpoint') });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.calls.CreateEndpoint, undefined);
    assert.equal(r.calls.UpdateEndpoint, undefined);
    const message = assertOneNotification(r.calls, 'failed');
    assert.match(message.Error.Cause, /not authorized/);
  });

  test('registering autoscaling fails: failure notification, FAILED', { skip: !spec.deployment.autoscaling && 'no autoscaling in this spec' }, async () => {
    const r = await run({ register: awsError('ApplicationAutoScaling.ValidationException', 'bad target') });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.calls.PutScalingPolicy, undefined);
    const message = assertOneNotification(r.calls, 'failed');
    assert.equal(message.Error.Error, 'ApplicationAutoScaling.ValidationException');
  });

  test('the update fails: failure notification, FAILED with the error', async () => {
    const r = await run({ update: awsError('SageMaker.ResourceLimitExceededException', 'no capacity for ml.g4dn.xlarge') });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'SageMaker.ResourceLimitExceededException');
    assert.equal(r.calls.DescribeEndpoint, undefined, 'nothing to wait for');
    assert.deepEqual(r.calls.DeleteEndpointConfig, [{ EndpointConfigName: r.release }]);
    const message = assertOneNotification(r.calls, 'failed');
    assert.equal(message.Error.Error, 'SageMaker.ResourceLimitExceededException');
  });

  test('SageMaker rolls the update back (an alarm fired): the rolled-back release is deleted, failure notification, FAILED', async () => {
    const r = await run({ statuses: [['Updating', 'old'], ['RollingBack', 'old'], ['InService', 'old']] });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'Deploy.RolledBack');
    assert.ok(r.cause.includes(r.release), r.cause);
    // The release that serves nothing goes; the one the endpoint went back to stays.
    assert.deepEqual(r.calls.DeleteEndpointConfig, [{ EndpointConfigName: r.release }]);
    assert.deepEqual(r.calls.DeleteModel, [{ ModelName: r.release }]);
    assertOneNotification(r.calls, 'failed');
  });

  test('deleting a rolled-back release fails: still one failure notification, with the rollback as the error', async () => {
    const r = await run({
      statuses: [['Updating', 'old'], ['InService', 'old']],
      retire: awsError('SageMaker.SageMakerException', 'User is not authorized to perform: sagemaker:DeleteEndpointConfig (Service: SageMaker, Status Code: 400)'),
    });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'Deploy.RolledBack');
    const message = assertOneNotification(r.calls, 'failed');
    assert.match(message.Cleanup.Cause, /not authorized/);
  });

  test('the endpoint ends Failed: failure notification, FAILED', async () => {
    const r = await run({ exists: false, statuses: [['Creating', 'new'], ['Failed', 'new']] });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'Deploy.EndpointFailed');
    assertOneNotification(r.calls, 'failed');
  });

  test('the endpoint already serves the package (its metadata was edited): nothing is deployed', async () => {
    const r = await run({ serving: packageArn });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(r.calls.DescribeModel, [{ ModelName: `${project}-previous` }], 'the model of the serving configuration');
    assert.equal(r.calls.CreateModel, undefined);
    assert.equal(r.calls.UpdateEndpoint, undefined);
    assert.equal(r.calls.Publish, undefined, 'no deployment, no notification');
  });

  test('a package that is not approved is not deployed', async () => {
    const r = await run({ pkg: { ModelApprovalStatus: 'Rejected' } });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'Deploy.PackageNotApproved');
    assert.equal(r.calls.CreateModel, undefined);
    assertOneNotification(r.calls, 'failed');
  });

  test("the package's drift baseline (and an image model's archive) becomes the monitoring's", async () => {
    const models = spec.storage.buckets.models;
    const r = await run({
      pkg: {
        DriftCheckBaselines: { ModelDataQuality: { Statistics: { ContentType: 'application/json', S3Uri: `s3://${models}/baselines/exec-7/statistics.json` } } },
        InferenceSpecification: { Containers: [{ ModelDataUrl: `s3://${models}/models/job-7/output/model.tar.gz` }] },
      },
    });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const copies = [
      { Bucket: pipelineBucket, Key: 'monitoring/baseline/statistics.json', CopySource: `${models}/baselines/exec-7/statistics.json` },
    ];
    // docs/monitoring.md: an image model's monitoring embeds the captured images with the
    // deployed model, so its archive is copied beside the baseline; tabular monitoring is
    // Model Monitor's and needs no model.
    const formats = spec.dataSources.map((source) => source.format);
    const kind = spec.monitoring?.kind ?? (formats.every((f) => f === 'tabular') ? 'tabular' : 'image');
    if (spec.monitoring && kind === 'image') {
      copies.push({ Bucket: pipelineBucket, Key: 'monitoring/baseline/model.tar.gz', CopySource: `${models}/models/job-7/output/model.tar.gz` });
    }
    assert.deepEqual(r.calls.CopyObject, copies);
    assert.equal(r.calls.CreateModel.length, 1, 'the deployment goes on after the copy');
  });
});
