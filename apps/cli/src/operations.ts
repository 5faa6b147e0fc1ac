/**
 * The CLI's GraphQL operations: the typed documents GraphQL Code Generator emits into `./gql/` from
 * `graphql/operations/cli.graphql`, under the short names the commands use, and the view types the
 * formatters take. Change the .graphql file and run `npm run generate:operations`; never edit `./gql/`.
 */
import type {
  ClusterCredentialsMutation,
  ClusterDetailsQuery,
  ClusterEventsSubscription,
  ClusterFeedSubscription,
  ClusterFieldsFragment,
  ClusterObservationFieldsFragment,
  NetworkProfileFieldsFragment,
  PlanFieldsFragment,
  TaskFieldsFragment,
  TypedDocumentString,
  UsageQuery,
} from './gql/graphql.js';

export {
  CancelTaskDocument as CancelTask,
  ClusterCredentialsDocument as ClusterCredentials,
  ClusterDetailsDocument as ClusterDetails,
  ClusterDocument as Cluster,
  ClusterEventsDocument as ClusterEvents,
  ClusterFeedDocument as ClusterFeed,
  ClustersDocument as Clusters,
  CreateClusterDocument as CreateCluster,
  CreateNetworkProfileDocument as CreateNetworkProfile,
  DeleteClusterDocument as DeleteCluster,
  DeleteNetworkProfileDocument as DeleteNetworkProfile,
  MeDocument as Me,
  NetworkProfileDocument as NetworkProfile,
  NetworkProfilesDocument as NetworkProfiles,
  PksVersionDocument as PksVersion,
  PlansDocument as Plans,
  ResizeClusterDocument as ResizeCluster,
  TaskDocument as Task,
  TaskEventsDocument as TaskEvents,
  UpdateClusterDocument as UpdateCluster,
  UpgradeClusterDocument as UpgradeCluster,
  UpgradeClustersDocument as UpgradeClusters,
  UsageDocument as Usage,
} from './gql/graphql.js';
export type {
  CreateClusterInput,
  DrainInput,
  UpdateClusterInput,
  UpgradeClustersInput,
} from './gql/graphql.js';

/** A generated document: the query text, typed with its result and variables. */
export type Operation<TData, TVars> = TypedDocumentString<TData, TVars>;

export type ClusterView = ClusterFieldsFragment;
export type ClusterDetailsView = ClusterDetailsQuery['cluster'];
/** What `pks cluster` reads of the cluster's status and conditions. */
export type ClusterObservationView = ClusterObservationFieldsFragment;
export type PlanView = PlanFieldsFragment;
export type NetworkProfileView = NetworkProfileFieldsFragment;
export type TaskView = TaskFieldsFragment;
export type UsageView = UsageQuery['usage'];
export type ClusterEventView = ClusterEventsSubscription['clusterEvents'];
export type FeedMessageView = ClusterFeedSubscription['clusterFeed'];
export type FeedEventView = NonNullable<FeedMessageView['event']>;
export type CredentialsView = ClusterCredentialsMutation['clusterCredentials'];
