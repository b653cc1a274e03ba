// Executes generated/<project>/retraining.asl.json with aws-local-stepfunctions, every Task
// mocked, along the paths an operator cares about: success after polling, pipeline failure,
// throttling then success, a stuck pipeline, broken notifications, new data taken from its queue once per check
// run, the data version passed to the pipeline, and waiting for a running execution.
//
//   ASL_DEFINITION=generated/skin-lesion/retraining.asl.json node --test tests/asl/retraining.test.mjs
//
// Runs on Node 22, or on Node 20 through the Promise.withResolvers polyfill below.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
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

const library = new URL(
  '../../.tools/npm/node_modules/aws-local-stepfunctions/build/main.node.esm.js',
  import.meta.url,
);
const { StateMachine } = await import(library.href);

const definitionPath = process.env.ASL_DEFINITION;
if (!definitionPath) {
  throw new Error('set ASL_DEFINITION to the retraining.asl.json to execute');
}
// generated/<project>/retraining.asl.json: the directory names the project; an environment's
// generated/<project>/<env>/ (inside a directory with its own manifest) is `<project>-<env>`.
const dir = path.dirname(path.resolve(definitionPath));
const parent = path.dirname(dir);
const project = existsSync(path.join(parent, 'manifest.json'))
  ? `${path.basename(parent)}-${path.basename(dir)}`
  : path.basename(dir);
const topicArn = `arn:aws:sns:us-east-1:123456789012:${project}-notifications`;
const queueUrl = `https://sqs.us-east-1.amazonaws.com/123456789012/${project}-new-data`;
// What CloudFormation's DefinitionSubstitutions does at deploy time.
const text = readFileSync(definitionPath, 'utf8')
  .replaceAll('${NotificationTopicArn}', topicArn)
  .replaceAll('${NewDataQueueUrl}', queueUrl);
assert.ok(!text.includes('${'), 'a placeholder is left after substitution');
const definition = JSON.parse(text);

const stateMachineArn = `arn:aws:states:us-east-1:123456789012:stateMachine:${project}-retraining`;
const executionId = `arn:aws:states:us-east-1:123456789012:execution:${project}-retraining:run-1`;
const executionArn = `arn:aws:sagemaker:us-east-1:123456789012:pipeline/${project}-pipeline/execution/abc123`;
const taskStates = Object.entries(definition.States)
  .filter(([, state]) => state.Type === 'Task')
  .map(([name]) => name);
const waitStates = Object.entries(definition.States)
  .filter(([, state]) => state.Type === 'Wait')
  .map(([name]) => name);

/** An error as the aws-sdk integration raises it: the name is what Retry and Catch match. */
function awsError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Runs the machine with mocks for SageMaker, Step Functions and SNS.
 * `start`, `describe` and `latest` (the newest pipeline executions' summaries) are lists of
 * responses, one per call (the last one repeats); a response that is an Error is thrown.
 * `queued` is how many new-data events the queue holds; `purge` may be an Error that
 * PurgeQueue throws. `publish` may throw to break notifications.
 */
async function run({
  input = {},
  start = [{ PipelineExecutionArn: executionArn }],
  describe = [],
  latest = [[]],
  queued = 0,
  purge,
  publish,
} = {}) {
  const calls = { start: [], describe: [], stop: [], publish: [], latest: [], count: [], purge: [] };
  const respond = (list, index) => {
    const response = list[Math.min(index, list.length - 1)];
    if (response instanceof Error) throw response;
    return response;
  };
  const sagemaker = {
    StartPipelineExecution: async (request) => {
      calls.start.push(request);
      return respond(start, calls.start.length - 1);
    },
    DescribePipelineExecution: async (request) => {
      calls.describe.push(request);
      return {
        PipelineExecutionArn: request.PipelineExecutionArn,
        ...respond(describe, calls.describe.length - 1),
      };
    },
    StopPipelineExecution: async (request) => {
      calls.stop.push(request);
      return { PipelineExecutionArn: request.PipelineExecutionArn };
    },
    ListPipelineExecutions: async (request) => {
      calls.latest.push(request);
      return { PipelineExecutionSummaries: respond(latest, calls.latest.length - 1) };
    },
  };
  const sqs = {
    GetQueueAttributes: async (request) => {
      calls.count.push(request);
      return { Attributes: { ApproximateNumberOfMessages: String(queued) } };
    },
    PurgeQueue: async (request) => {
      calls.purge.push(request);
      if (purge) throw purge;
      return {};
    },
  };
  const handlers = {};
  for (const name of taskStates) {
    const resource = definition.States[name].Resource;
    if (resource === 'arn:aws:states:::sns:publish') {
      handlers[name] = async (request) => {
        calls.publish.push(request);
        if (publish) return publish(request);
        return { MessageId: `message-${calls.publish.length}` };
      };
    } else {
      const [service, action] = resource.split(':').slice(-2);
      const mocks = { sagemaker, sqs }[service] ?? {};
      const handler = mocks[action.charAt(0).toUpperCase() + action.slice(1)];
      assert.ok(handler, `no mock for ${resource}`);
      handlers[name] = handler;
    }
  }
  const machine = new StateMachine(definition);
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      waitTimeOverrides: Object.fromEntries(waitStates.map((name) => [name, 0])),
      retryIntervalOverrides: Object.fromEntries(taskStates.map((name) => [name, 0])),
    },
    context: {
      Execution: { Id: executionId, Name: 'run-1', Input: input, StartTime: '2026-01-01T00:00:00Z' },
      StateMachine: { Id: stateMachineArn, Name: `${project}-retraining` },
    },
  });
  try {
    const output = await execution.result;
    return { status: 'SUCCEEDED', output, calls };
  } catch (error) {
    const failure = error.cause ?? error;
    return { status: 'FAILED', error: failure.name, cause: failure.message, calls };
  }
}

function assertOneNotification(calls, outcome) {
  assert.equal(calls.publish.length, 1, 'exactly one notification');
  const [message] = calls.publish;
  assert.equal(message.TopicArn, topicArn);
  assert.equal(message.Subject, `${project} retraining ${outcome}`);
  return JSON.parse(message.Message);
}

describe(`${project} retraining state machine`, () => {
  test('the pipeline succeeds after polling: success notification, SUCCEEDED', async () => {
    const run1 = await run({
      describe: [{ PipelineExecutionStatus: 'Executing' }, { PipelineExecutionStatus: 'Executing' }, { PipelineExecutionStatus: 'Succeeded' }],
    });
    assert.equal(run1.status, 'SUCCEEDED');
    assert.equal(run1.calls.start.length, 1);
    const [request] = run1.calls.start;
    assert.equal(request.PipelineName, `${project}-pipeline`);
    assert.deepEqual(request.PipelineParameters, []);
    assert.match(request.ClientRequestToken, /^[0-9a-f]{64}$/);
    assert.match(request.PipelineExecutionDisplayName, /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$/);
    assert.ok(request.PipelineExecutionDescription.includes(executionId));
    assert.equal(run1.calls.describe.length, 3, 'polled until Succeeded');
    assert.ok(run1.calls.describe.every((d) => d.PipelineExecutionArn === executionArn));
    assert.equal(run1.calls.stop.length, 0);
    const message = assertOneNotification(run1.calls, 'succeeded');
    assert.equal(message.Execution.PipelineExecutionArn, executionArn);
    assert.equal(message.Pipeline.PipelineExecutionStatus, 'Succeeded');
  });

  test('the pipeline fails: failure notification, FAILED with the status', async () => {
    const run1 = await run({
      describe: [
        { PipelineExecutionStatus: 'Executing' },
        { PipelineExecutionStatus: 'Failed', FailureReason: 'Step train failed: AlgorithmError' },
      ],
    });
    assert.equal(run1.status, 'FAILED');
    assert.equal(run1.error, 'Retraining.PipelineNotSucceeded');
    assert.match(run1.cause, /ended with status Failed/);
    const message = assertOneNotification(run1.calls, 'failed');
    assert.equal(message.Error.Error, 'Retraining.PipelineNotSucceeded');
    assert.equal(message.Pipeline.FailureReason, 'Step train failed: AlgorithmError');
  });

  test('a stopped pipeline is a failure', async () => {
    const run1 = await run({ describe: [{ PipelineExecutionStatus: 'Stopped' }] });
    assert.equal(run1.status, 'FAILED');
    assert.match(run1.cause, /ended with status Stopped/);
    assertOneNotification(run1.calls, 'failed');
  });

  for (const name of ['SageMaker.SageMakerException', 'SageMaker.ThrottlingException']) {
    test(`throttling (${name}) then success: one pipeline run, same token`, async () => {
      const run1 = await run({
        start: [awsError(name, 'Rate exceeded (Service: SageMaker, Status Code: 400, Error Code: ThrottlingException)'), { PipelineExecutionArn: executionArn }],
        describe: [{ PipelineExecutionStatus: 'Succeeded' }],
      });
      assert.equal(run1.status, 'SUCCEEDED');
      assert.equal(run1.calls.start.length, 2, 'the start was retried once');
      const [first, second] = run1.calls.start;
      assert.equal(first.ClientRequestToken, second.ClientRequestToken, 'retries are idempotent');
      const message = assertOneNotification(run1.calls, 'succeeded');
      assert.equal(message.Error, undefined, 'an error that was tried again is not reported as one');
    });
  }

  // docs/deployment-guide.md, "Retries": six transient errors per execution are tried again.
  test('throttling that never ends gives up after six retries and reports', async () => {
    const run1 = await run({ start: [awsError('SageMaker.SageMakerException', 'Rate exceeded (Service: SageMaker, Status Code: 400)')] });
    assert.equal(run1.status, 'FAILED');
    assert.equal(run1.error, 'SageMaker.SageMakerException');
    assert.equal(run1.calls.start.length, 7, 'the call and six retries');
    const message = assertOneNotification(run1.calls, 'failed');
    assert.equal(message.Error.Error, 'SageMaker.SageMakerException');
  });

  test('a request SageMaker refuses (ValidationException) is not tried again', async () => {
    const refused = 'Pipeline parameter TrainingInstanceType is not valid (Service: SageMaker, Status Code: 400, Error Code: ValidationException)';
    const run1 = await run({ start: [awsError('SageMaker.SageMakerException', refused)] });
    assert.equal(run1.status, 'FAILED');
    assert.equal(run1.calls.start.length, 1, 'refused once, not six more times');
    const message = assertOneNotification(run1.calls, 'failed');
    assert.equal(message.Error.Cause, refused);
  });

  test('a service fault (5xx) is tried again', async () => {
    const run1 = await run({
      start: [awsError('SageMaker.SageMakerException', 'We encountered an internal error (Service: SageMaker, Status Code: 500)'), { PipelineExecutionArn: executionArn }],
      describe: [{ PipelineExecutionStatus: 'Succeeded' }],
    });
    assert.equal(run1.status, 'SUCCEEDED', run1.cause);
    assert.equal(run1.calls.start.length, 2);
  });

  test('a missing pipeline is not retried: failure notification, FAILED', async () => {
    const run1 = await run({ start: [awsError('SageMaker.ResourceNotFoundException', 'Pipeline not found')] });
    assert.equal(run1.status, 'FAILED');
    assert.equal(run1.error, 'SageMaker.ResourceNotFoundException');
    assert.equal(run1.calls.start.length, 1);
    assert.equal(run1.calls.describe.length, 0);
    assertOneNotification(run1.calls, 'failed');
  });

  test('PipelineParameters in the input are passed through', async () => {
    const parameters = [{ Name: 'TrainingInstanceType', Value: 'ml.g5.xlarge' }];
    const run1 = await run({
      input: { PipelineParameters: parameters, source: 'aws.events' },
      describe: [{ PipelineExecutionStatus: 'Succeeded' }],
    });
    assert.equal(run1.status, 'SUCCEEDED');
    assert.deepEqual(run1.calls.start[0].PipelineParameters, parameters);
  });

  test('a stuck pipeline is stopped after the poll budget: failure notification, FAILED', async () => {
    const budget = definition.States.PollBudgetLeft.Choices[0].NumericLessThan;
    const run1 = await run({ describe: [{ PipelineExecutionStatus: 'Executing' }] });
    assert.equal(run1.status, 'FAILED');
    assert.equal(run1.error, 'Retraining.Timeout');
    assert.equal(run1.calls.describe.length, budget);
    assert.equal(run1.calls.stop.length, 1);
    assert.equal(run1.calls.stop[0].PipelineExecutionArn, executionArn);
    assert.match(run1.calls.stop[0].ClientRequestToken, /^[0-9a-f]{64}$/);
    const message = assertOneNotification(run1.calls, 'failed');
    assert.equal(message.Error.Error, 'Retraining.Timeout');
    // The poll budget and the machine timeout agree: polling ends first.
    const wait = definition.States.WaitForPipeline.Seconds;
    assert.ok(budget * wait < definition.TimeoutSeconds);
  });

  test('a failed success notification is reported as a failure', async () => {
    const run1 = await run({
      describe: [{ PipelineExecutionStatus: 'Succeeded' }],
      publish: (request) => {
        if (request.Subject.endsWith('succeeded')) throw awsError('SNS.AuthorizationErrorException', 'denied');
        return { MessageId: 'm' };
      },
    });
    assert.equal(run1.status, 'FAILED');
    assert.equal(run1.error, 'SNS.AuthorizationErrorException');
    // The success notice is retried (bounded), then the failure notice goes out once.
    const subjects = run1.calls.publish.map((p) => p.Subject);
    const last = subjects.pop();
    assert.equal(last, `${project} retraining failed`);
    assert.ok(subjects.length >= 1 && subjects.length <= 4, `bounded (${subjects.length} attempts)`);
    assert.ok(subjects.every((s) => s === `${project} retraining succeeded`));
  });

  test('a broken failure notification ends the run without looping', async () => {
    const run1 = await run({
      describe: [{ PipelineExecutionStatus: 'Failed' }],
      publish: () => {
        throw awsError('SNS.ThrottledException', 'slow down');
      },
    });
    assert.equal(run1.status, 'FAILED');
    assert.equal(run1.error, 'Retraining.PipelineNotSucceeded');
    assert.ok(run1.calls.publish.length <= 4, `bounded (${run1.calls.publish.length} publishes)`);
    assert.ok(run1.calls.publish.every((p) => p.Subject === `${project} retraining failed`));
  });
  test('a rule passes its event time as the pipeline\'s DataVersion', async () => {
    const run1 = await run({
      input: { Trigger: 'schedule', DataVersion: '2026-03-01T03:00:00Z' },
      describe: [{ PipelineExecutionStatus: 'Succeeded' }],
    });
    assert.equal(run1.status, 'SUCCEEDED');
    assert.deepEqual(run1.calls.start[0].PipelineParameters, [{ Name: 'DataVersion', Value: '2026-03-01T03:00:00Z' }]);
    assert.equal(run1.calls.count.length, 0, 'only a new-data check reads the queue');
  });

  const newData = { Trigger: 'newData', DataVersion: '2026-03-01T10:00:00Z' };
  const checksNewData = 'CountNewData' in definition.States;
  const noNewDataTrigger = !checksNewData && 'no newData trigger in this spec';

  test('new data: 25,000 queued objects start the pipeline once, and the queue is emptied', { skip: noNewDataTrigger }, async () => {
    const run1 = await run({ input: newData, queued: 25000, describe: [{ PipelineExecutionStatus: 'Succeeded' }] });
    assert.equal(run1.status, 'SUCCEEDED', run1.cause);
    assert.deepEqual(run1.calls.count, [{ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }]);
    assert.deepEqual(run1.calls.purge, [{ QueueUrl: queueUrl }]);
    assert.equal(run1.calls.start.length, 1);
    assert.deepEqual(run1.calls.start[0].PipelineParameters, [{ Name: 'DataVersion', Value: newData.DataVersion }]);
  });

  test('new data: an empty queue starts nothing and notifies nobody', { skip: noNewDataTrigger }, async () => {
    const run1 = await run({ input: newData, queued: 0 });
    assert.equal(run1.status, 'SUCCEEDED', run1.cause);
    assert.equal(run1.calls.purge.length, 0);
    assert.equal(run1.calls.start.length, 0);
    assert.equal(run1.calls.latest.length, 0);
    assert.equal(run1.calls.publish.length, 0);
  });

  test('new data: a purge SQS refuses (one a minute) does not stop the run', { skip: noNewDataTrigger }, async () => {
    const run1 = await run({
      input: newData,
      queued: 3,
      purge: awsError('Sqs.PurgeQueueInProgressException', 'Only one PurgeQueue operation is allowed every 60 seconds'),
      describe: [{ PipelineExecutionStatus: 'Succeeded' }],
    });
    assert.equal(run1.status, 'SUCCEEDED', run1.cause);
    assert.equal(run1.calls.start.length, 1);
  });

  test('a spec without a newData trigger has no new-data states', { skip: checksNewData && 'this spec has a newData trigger' }, async () => {
    assert.ok(!text.includes('sqs:'), 'no queue call');
  });

  test('a running pipeline execution is waited for before this one starts', async () => {
    const running = [{ PipelineExecutionArn: `${executionArn}-earlier`, PipelineExecutionStatus: 'Executing' }];
    const done = [{ PipelineExecutionArn: `${executionArn}-earlier`, PipelineExecutionStatus: 'Succeeded' }];
    const run1 = await run({ latest: [running, running, done], describe: [{ PipelineExecutionStatus: 'Succeeded' }] });
    assert.equal(run1.status, 'SUCCEEDED');
    assert.equal(run1.calls.latest.length, 3, 'looked until the other execution ended');
    assert.equal(run1.calls.latest[0].PipelineName, `${project}-pipeline`);
    assert.equal(run1.calls.start.length, 1);
    assertOneNotification(run1.calls, 'succeeded');
  });

  test('a pipeline that stays busy is reported, and nothing is started', async () => {
    const running = [{ PipelineExecutionArn: `${executionArn}-earlier`, PipelineExecutionStatus: 'Executing' }];
    const run1 = await run({ latest: [running] });
    assert.equal(run1.status, 'FAILED');
    assert.equal(run1.error, 'Retraining.PipelineBusy');
    assert.equal(run1.calls.start.length, 0);
    const budget = definition.States.BusyWaitBudgetLeft.Choices[0].NumericLessThan;
    assert.equal(run1.calls.latest.length, budget);
    assertOneNotification(run1.calls, 'failed');
    // Waiting for another execution and then polling this one both fit the machine's timeout.
    const wait = definition.States.WaitForRunningPipeline.Seconds;
    const poll = definition.States.WaitForPipeline.Seconds;
    const polls = definition.States.PollBudgetLeft.Choices[0].NumericLessThan;
    assert.ok(budget * wait + polls * poll < definition.TimeoutSeconds);
  });
});
