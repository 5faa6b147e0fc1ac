import type { Metadata } from 'next';
import { NetworkProfileView } from './NetworkProfileView';

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  return { title: `Network profile ${decodeURIComponent((await params).name)}` };
}

export default async function NetworkProfilePage({ params }: { params: Promise<{ name: string }> }) {
  return <NetworkProfileView name={decodeURIComponent((await params).name)} />;
}
