// Stylesheets are imported for their side effect; esbuild bundles them into one hashed file.
declare module '*.css';
