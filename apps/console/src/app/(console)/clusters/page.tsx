import type { Metadata } from 'next';
import { ClusterList } from './ClusterList';

export const metadata: Metadata = { title: 'Clusters' };

export default function ClustersPage() {
  return <ClusterList />;
}
