import type { Metadata } from 'next';
import { ClusterDetail } from './ClusterDetail';

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  return { title: `Cluster ${decodeURIComponent((await params).name)}` };
}

export default async function ClusterPage({ params }: { params: Promise<{ name: string }> }) {
  return <ClusterDetail name={decodeURIComponent((await params).name)} />;
}
