/**
 * IAM policies of queues, as the emulator keeps them: stored per queue with an etag for optimistic
 * concurrency, never enforced (every caller may do everything). Shapes follow google/iam/v1/policy.proto.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, invalidArgument } from '../status.js';

/** A conditional role binding's condition (google.type.Expr). */
export interface IamCondition {
  expression: string;
  title?: string;
  description?: string;
  location?: string;
}

/** One role granted to members. */
export interface IamBinding {
  role: string;
  members: string[];
  condition?: IamCondition;
}

/** A queue's policy. */
export interface IamPolicy {
  /** 1, or 3 when a binding has a condition (what IAM reports). */
  version: number;
  bindings: IamBinding[];
  etag: Buffer;
}

/** The etag IAM gives a resource's empty policy ("ACAB" in base64). */
export const EMPTY_POLICY_ETAG = Buffer.from('ACAB', 'base64');

/** "Returns an empty policy if the resource exists and does not have a policy set." */
export const emptyPolicy = (): IamPolicy => ({ version: 0, bindings: [], etag: EMPTY_POLICY_ETAG });

const MEMBER = /^(user|serviceAccount|group|domain|deleted:user|deleted:serviceAccount|deleted:group|principal|principalSet):.+$|^(allUsers|allAuthenticatedUsers)$/;

/**
 * The policy stored by SetIamPolicy: validated, with a new etag. A request carrying an etag must
 * carry the current one (IAM's read-modify-write check); one without replaces the policy blindly.
 */
export function nextPolicy(current: IamPolicy, requested: { bindings: IamBinding[]; etag?: Buffer }): IamPolicy {
  if (requested.etag !== undefined && requested.etag.length > 0 && !requested.etag.equals(current.etag)) {
    throw new ApiError('ABORTED', 'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.');
  }
  for (const b of requested.bindings) {
    if (!b.role.startsWith('roles/')) throw invalidArgument(`Role ${b.role} is not a valid role: roles look like roles/cloudtasks.enqueuer.`);
    for (const m of b.members) {
      if (!MEMBER.test(m)) throw invalidArgument(`Invalid member '${m}' for role ${b.role}: members look like user:EMAIL, serviceAccount:EMAIL, group:EMAIL or domain:DOMAIN.`);
    }
  }
  // Bindings without members are dropped, as IAM does.
  const bindings = requested.bindings.filter((b) => b.members.length > 0);
  return { version: bindings.some((b) => b.condition !== undefined) ? 3 : 1, bindings, etag: randomBytes(8) };
}

/** Permissions that apply to a queue (cloudtasks.queues.* and cloudtasks.tasks.*). */
const QUEUE_PERMISSIONS: ReadonlySet<string> = new Set(
  [
    ...['create', 'delete', 'get', 'getIamPolicy', 'list', 'pause', 'purge', 'resume', 'setIamPolicy', 'update'].map((p) => `cloudtasks.queues.${p}`),
    ...['create', 'delete', 'fullView', 'get', 'list', 'run'].map((p) => `cloudtasks.tasks.${p}`),
  ],
);

/**
 * TestIamPermissions: the subset of `permissions` the caller holds on the queue. Nothing is
 * enforced locally, so that is every queue permission asked for; for a queue that does not exist
 * it is none ("not a NOT_FOUND error"). Wildcards are refused, as the request's doc says.
 */
export function grantedPermissions(permissions: string[], queueExists: boolean): string[] {
  for (const p of permissions) {
    if (p.includes('*')) throw invalidArgument(`Permission '${p}' is invalid: wildcards (such as '*' or 'cloudtasks.*') are not allowed.`);
  }
  return queueExists ? permissions.filter((p) => QUEUE_PERMISSIONS.has(p)) : [];
}
